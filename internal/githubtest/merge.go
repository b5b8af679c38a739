package githubtest

import (
	"fmt"
	"strings"
	"time"
)

// mergeError is a refused merge with the status GitHub answers it with.
type mergeError struct {
	status int
	err    error
}

func (e *mergeError) Error() string { return e.err.Error() }
func (e *mergeError) Unwrap() error { return e.err }

// Merge merges pull request n of repo as login, the way the merge button
// does (merge commit), and fails the test if GitHub would refuse it.
func (s *Server) Merge(repo string, n int, login string) string {
	sha, err := s.mergePR(repo, n, login, "merge", "", "", "")
	if err != nil {
		s.fatalf("Merge %s#%d: %v", repo, n, err)
	}
	return sha
}

// mergePR merges with method merge, squash or rebase (rebase is modelled as
// a squash: one new commit with the merged tree on the base). expectSHA,
// when set, must be the current head. It moves the base branch and emits
// pull_request closed and push.
func (s *Server) mergePR(full string, n int, login, method, expectSHA, title, message string) (string, error) {
	s.gitMu.Lock()
	r, err := s.repo(full)
	if err != nil {
		s.gitMu.Unlock()
		return "", &mergeError{404, err}
	}
	s.mu.Lock()
	pr, ok := r.pulls[n]
	if !ok {
		s.mu.Unlock()
		s.gitMu.Unlock()
		return "", &mergeError{404, fmt.Errorf("no pull request #%d", n)}
	}
	by := s.userLocked(login, "User")
	var refuse *mergeError
	switch {
	case pr.state != "open":
		refuse = &mergeError{405, errClosed}
	case expectSHA != "" && expectSHA != pr.headSHA:
		refuse = &mergeError{409, errHeadChanged}
	case pr.conflict || pr.draft:
		refuse = &mergeError{405, errNotMergeable}
	case mergeQueueFor(r, pr.baseRef) != nil:
		refuse = &mergeError{405, errUseQueue}
	default:
		if unmet := s.unmetRequirements(r, pr); len(unmet) > 0 {
			refuse = &mergeError{405, fmt.Errorf("Repository rule violations found\n\n%s", strings.Join(unmet, "\n"))}
		}
	}
	headSHA, headLabel, number, prTitle := pr.headSHA, pr.headRepo.owner.Login+"/"+pr.headRef, pr.number, pr.title
	s.mu.Unlock()
	if refuse != nil {
		s.gitMu.Unlock()
		return "", refuse
	}

	g := r.git()
	base := g.branchHead(pr.baseRef)
	tree, conflict, err := g.testMerge(base, headSHA)
	if err != nil || conflict {
		s.gitMu.Unlock()
		if err == nil {
			err = errNotMergeable
		}
		return "", &mergeError{405, err}
	}
	who := signature{Name: login, Email: login + "@users.noreply.github.com", When: time.Now().UTC()}
	var sha string
	switch method {
	case "", "merge":
		if title == "" {
			title = fmt.Sprintf("Merge pull request #%d from %s", number, headLabel)
		}
		if message == "" {
			message = prTitle
		}
		sha, err = g.commitTree(tree, []string{base, headSHA}, title+"\n\n"+message, who)
	default:
		if title == "" {
			title = fmt.Sprintf("%s (#%d)", prTitle, number)
		}
		msg := title
		if message != "" {
			msg += "\n\n" + message
		}
		sha, err = g.commitTree(tree, []string{base}, msg, who)
	}
	if err == nil {
		err = g.updateRef("refs/heads/"+pr.baseRef, sha, base)
	}
	if err != nil {
		s.gitMu.Unlock()
		return "", &mergeError{500, err}
	}
	now := time.Now().UTC()
	s.mu.Lock()
	pr.state = "closed"
	pr.merged = true
	pr.mergedBy = by
	pr.mergedAt = &now
	pr.closedAt = &now
	pr.updatedAt = now
	pr.mergeCommitSHA = sha
	r.pushedAt = now
	s.mu.Unlock()
	s.gitMu.Unlock()

	s.emitPull(r, pr, "closed", by, nil)
	s.emitPush(r, pr.baseRef, base, sha, by)
	s.branchMoved(r, pr.baseRef, by)
	return sha, nil
}

// ClosePR closes pull request n without merging it (pull_request closed).
func (s *Server) ClosePR(repo string, n int, login string) {
	if err := s.setPRState(repo, n, login, "closed"); err != nil {
		s.fatalf("ClosePR %s#%d: %v", repo, n, err)
	}
}

// ReopenPR reopens a closed, unmerged pull request (pull_request reopened).
func (s *Server) ReopenPR(repo string, n int, login string) {
	if err := s.setPRState(repo, n, login, "open"); err != nil {
		s.fatalf("ReopenPR %s#%d: %v", repo, n, err)
	}
}

// ReadyForReview marks a draft pull request ready (pull_request ready_for_review).
func (s *Server) ReadyForReview(repo string, n int, login string) {
	r, pr, by, err := s.pullAndUser(repo, n, login)
	if err != nil {
		s.fatalf("ReadyForReview: %v", err)
		return
	}
	s.mu.Lock()
	pr.draft = false
	pr.updatedAt = time.Now().UTC()
	s.mu.Unlock()
	s.emitPull(r, pr, "ready_for_review", by, nil)
}

func (s *Server) setPRState(full string, n int, login, state string) error {
	r, pr, by, err := s.pullAndUser(full, n, login)
	if err != nil {
		return err
	}
	s.mu.Lock()
	if pr.merged {
		s.mu.Unlock()
		return errClosed
	}
	now := time.Now().UTC()
	pr.state = state
	pr.updatedAt = now
	action := "reopened"
	if state == "closed" {
		pr.closedAt = &now
		action = "closed"
	} else {
		pr.closedAt = nil
	}
	s.mu.Unlock()
	if state == "closed" {
		defer s.advanceQueues(r) // a closed pull request leaves the merge queue
	}
	if state == "open" {
		s.gitMu.Lock()
		err := s.testMerge(r, pr)
		s.gitMu.Unlock()
		if err != nil {
			return err
		}
	}
	s.emitPull(r, pr, action, by, nil)
	return nil
}

func (s *Server) pullAndUser(full string, n int, login string) (*repo, *pullRequest, *User, error) {
	r, err := s.repo(full)
	if err != nil {
		return nil, nil, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pr, ok := r.pulls[n]
	if !ok {
		return nil, nil, nil, fmt.Errorf("no pull request %s#%d", full, n)
	}
	return r, pr, s.userLocked(login, "User"), nil
}
