package githubtest

import (
	"fmt"
	"time"
)

// Commit commits files (path -> content) to branch of repo and returns the
// new commit's sha. A branch that does not exist yet starts from the
// default branch. The push is announced (push webhook) and every pull
// request with this branch as head or base is brought up to date
// (synchronize webhook, new test merge).
func (s *Server) Commit(repo, branch string, files map[string]string, msg string) string {
	sha, err := s.pushCommit(repo, branch, files, nil, msg, "")
	if err != nil {
		s.fatalf("Commit %s %s: %v", repo, branch, err)
	}
	return sha
}

// DeleteFiles commits the removal of paths on branch, like Commit.
func (s *Server) DeleteFiles(repo, branch string, paths []string, msg string) string {
	sha, err := s.pushCommit(repo, branch, nil, paths, msg, "")
	if err != nil {
		s.fatalf("DeleteFiles %s %s: %v", repo, branch, err)
	}
	return sha
}

// Branch creates branch at the head of from (a branch name or sha).
func (s *Server) Branch(repo, branch, from string) string {
	r, err := s.repo(repo)
	if err != nil {
		s.fatalf("Branch: %v", err)
		return ""
	}
	g := r.git()
	sha := g.resolve(from)
	if sha == "" {
		sha = g.branchHead(from)
	}
	if sha == "" {
		s.fatalf("Branch %s: %s names no commit", repo, from)
		return ""
	}
	if err := g.updateRef("refs/heads/"+branch, sha, ""); err != nil {
		s.fatalf("Branch %s: %v", repo, err)
		return ""
	}
	s.emitPush(r, branch, "", sha, r.owner)
	return sha
}

// HeadSHA returns the commit branch points at, or "".
func (s *Server) HeadSHA(repo, branch string) string {
	r, err := s.repo(repo)
	if err != nil {
		return ""
	}
	return r.git().branchHead(branch)
}

// repo looks up a repository by full name.
func (s *Server) repo(full string) (*repo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.repos[full]
	if !ok {
		return nil, fmt.Errorf("no repository %s", full)
	}
	return r, nil
}

// pushCommit makes a commit on branch as author (login; the owner when
// empty) and announces it.
func (s *Server) pushCommit(full, branch string, files map[string]string, remove []string, msg, author string) (string, error) {
	r, err := s.repo(full)
	if err != nil {
		return "", err
	}
	g := r.git()
	before := g.branchHead(branch)
	parent := before
	if parent == "" {
		parent = g.branchHead(r.defaultBranch)
	}
	login := author
	if login == "" {
		login = r.owner.Login
	}
	now := time.Now().UTC()
	sha, err := g.commit(parent, files, remove, msg, signature{Name: login, Email: login + "@users.noreply.github.com", When: now})
	if err != nil {
		return "", err
	}
	if err := g.updateRef("refs/heads/"+branch, sha, before); err != nil {
		return "", err
	}
	s.mu.Lock()
	r.pushedAt = now
	pusher := s.userLocked(login, "User")
	s.mu.Unlock()
	s.emitPush(r, branch, before, sha, pusher)
	s.branchMoved(r, branch, pusher)
	s.advanceAllQueues() // the base moved under a queue, or a queued pull request's head moved
	return sha, nil
}
