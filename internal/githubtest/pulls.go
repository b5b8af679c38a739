package githubtest

import (
	"errors"
	"fmt"
	"time"
)

// PROptions describe a pull request to open.
type PROptions struct {
	// Head is the branch with the changes; HeadRepo the fork it lives in
	// ("owner/name"), empty for a branch of the same repository.
	Head, HeadRepo string
	// Base defaults to the repository's default branch.
	Base        string
	Title, Body string
	// Author defaults to the head repository's owner.
	Author string
	Draft  bool
}

// OpenPR opens a pull request, computes its test merge, announces it
// (pull_request opened) and returns its number.
func (s *Server) OpenPR(repo string, opts PROptions) int {
	n, err := s.openPR(repo, opts)
	if err != nil {
		s.fatalf("OpenPR %s: %v", repo, err)
	}
	return n
}

func (s *Server) openPR(full string, opts PROptions) (int, error) {
	s.gitMu.Lock()
	defer s.gitMu.Unlock()
	r, err := s.repo(full)
	if err != nil {
		return 0, err
	}
	head := r
	if opts.HeadRepo != "" && opts.HeadRepo != full {
		if head, err = s.repo(opts.HeadRepo); err != nil {
			return 0, err
		}
		if head.fork != r {
			return 0, fmt.Errorf("%s is not a fork of %s", opts.HeadRepo, full)
		}
	}
	if opts.Base == "" {
		opts.Base = r.defaultBranch
	}
	headSHA := head.git().branchHead(opts.Head)
	if headSHA == "" {
		return 0, fmt.Errorf("no branch %s in %s", opts.Head, head.fullName())
	}
	if r.git().branchHead(opts.Base) == "" {
		return 0, fmt.Errorf("no base branch %s", opts.Base)
	}
	if opts.Title == "" {
		opts.Title = "Update " + opts.Head
	}
	if opts.Author == "" {
		opts.Author = head.owner.Login
	}
	now := time.Now().UTC()
	s.mu.Lock()
	for _, p := range r.pulls {
		if p.state == "open" && p.headRepo == head && p.headRef == opts.Head && p.baseRef == opts.Base {
			s.mu.Unlock()
			return 0, fmt.Errorf("a pull request already exists for %s:%s", head.owner.Login, opts.Head)
		}
	}
	r.nextNumber++
	pr := &pullRequest{
		number: r.nextNumber, id: s.id(), title: opts.Title, body: opts.Body,
		author:   s.userLocked(opts.Author, "User"),
		headRepo: head, headRef: opts.Head, headSHA: headSHA, baseRef: opts.Base,
		draft: opts.Draft, state: "open", createdAt: now, updatedAt: now,
	}
	r.pulls[pr.number] = pr
	s.mu.Unlock()
	if err := s.testMerge(r, pr); err != nil {
		return 0, err
	}
	s.emitPull(r, pr, "opened", pr.author, nil)
	return pr.number, nil
}

// testMerge brings the pull request's refs/pull/N/head up to date and
// computes GitHub's test merge (refs/pull/N/merge, merge_commit_sha) with git.
// Callers hold s.gitMu.
func (s *Server) testMerge(r *repo, pr *pullRequest) error {
	g := r.git()
	s.mu.Lock()
	headRepo, headRef, number := pr.headRepo, pr.headRef, pr.number
	s.mu.Unlock()
	headRefName := fmt.Sprintf("refs/pull/%d/head", number)
	if headRepo != r {
		if _, err := g.run(nil, "fetch", "--quiet", "--no-tags", headRepo.gitDir, "+refs/heads/"+headRef+":"+headRefName); err != nil {
			return err
		}
	} else if _, err := g.run(nil, "update-ref", headRefName, "refs/heads/"+headRef); err != nil {
		return err
	}
	head := g.resolve(headRefName)
	base := g.branchHead(pr.baseRef)
	tree, conflict, err := g.testMerge(base, head)
	if err != nil {
		return err
	}
	merge := ""
	if !conflict {
		msg := fmt.Sprintf("Merge %s into %s", head, base)
		if merge, err = g.commitTree(tree, []string{base, head}, msg, signature{Name: "GitHub", Email: "noreply@github.com", When: time.Now().UTC()}); err != nil {
			return err
		}
		if _, err := g.run(nil, "update-ref", fmt.Sprintf("refs/pull/%d/merge", number), merge); err != nil {
			return err
		}
	}
	stats, err := computeStats(g, base, head)
	if err != nil {
		return err
	}
	behind := !g.isAncestor(base, head)
	s.mu.Lock()
	defer s.mu.Unlock()
	pr.headSHA = head
	pr.baseSHA = base
	pr.conflict = conflict
	pr.behind = behind
	pr.stats = stats
	if merge != "" {
		pr.mergeCommitSHA = merge
	}
	pr.unknownUntil = time.Now().Add(s.mergeableDelay)
	return nil
}

// computeStats counts what GitHub shows for a pull request: the diff and
// commits from the merge base to head.
func computeStats(g gitRepo, base, head string) (diffStats, error) {
	mb, err := g.mergeBase(base, head)
	if err != nil {
		return diffStats{}, err
	}
	changes, err := g.diffFiles(mb, head, false)
	if err != nil {
		return diffStats{}, err
	}
	st := diffStats{changedFiles: len(changes)}
	for _, c := range changes {
		st.additions += c.additions
		st.deletions += c.deletion
	}
	commits, err := g.commitsBetween(mb, head)
	st.commits = len(commits)
	return st, err
}

// branchMoved updates every open pull request whose head or base is branch
// of r: a new head is announced with pull_request synchronize; either way
// the test merge is recomputed.
func (s *Server) branchMoved(r *repo, branch string, sender *User) {
	s.gitMu.Lock()
	defer s.gitMu.Unlock()
	type target struct {
		base *repo
		pr   *pullRequest
	}
	var targets []target
	s.mu.Lock()
	for _, base := range s.repos {
		for _, pr := range base.pulls {
			if pr.state != "open" {
				continue
			}
			if (pr.headRepo == r && pr.headRef == branch) || (base == r && pr.baseRef == branch) {
				targets = append(targets, target{base, pr})
			}
		}
	}
	s.mu.Unlock()
	for _, t := range targets {
		s.mu.Lock()
		before := t.pr.headSHA
		s.mu.Unlock()
		if err := s.testMerge(t.base, t.pr); err != nil {
			s.logf("githubtest: test merge of %s#%d: %v", t.base.fullName(), t.pr.number, err)
			continue
		}
		s.mu.Lock()
		after := t.pr.headSHA
		if after != before {
			t.pr.updatedAt = time.Now().UTC()
		}
		s.mu.Unlock()
		if after != before {
			s.emitPull(t.base, t.pr, "synchronize", sender, map[string]any{"before": before, "after": after})
		}
	}
}

// refreshPulls recomputes the test merges of repo's open pull requests.
func (s *Server) refreshPulls(full string) {
	r, err := s.repo(full)
	if err != nil {
		return
	}
	s.gitMu.Lock()
	defer s.gitMu.Unlock()
	s.mu.Lock()
	var open []*pullRequest
	for _, pr := range r.pulls {
		if pr.state == "open" {
			open = append(open, pr)
		}
	}
	s.mu.Unlock()
	for _, pr := range open {
		if err := s.testMerge(r, pr); err != nil {
			s.logf("githubtest: test merge of %s#%d: %v", full, pr.number, err)
		}
	}
}

// mergeability is what GitHub reports about a pull request: mergeable
// (nil while computing) and mergeable_state. Callers hold s.mu.
func (s *Server) mergeability(r *repo, pr *pullRequest) (*bool, string) {
	if pr.state != "open" {
		return nil, "unknown"
	}
	if time.Now().Before(pr.unknownUntil) {
		return nil, "unknown"
	}
	ok := !pr.conflict
	switch {
	case pr.conflict:
		return &ok, "dirty"
	case pr.draft:
		return &ok, "draft"
	case len(s.unmetRequirements(r, pr)) > 0:
		return &ok, "blocked"
	case pr.behind:
		return &ok, "behind"
	case s.anyCheckFailing(r, pr.headSHA):
		return &ok, "unstable"
	}
	return &ok, "clean"
}

// unmetRequirements lists what branch protection and the rulesets still
// wait for. Callers hold s.mu.
func (s *Server) unmetRequirements(r *repo, pr *pullRequest) []string {
	var unmet []string
	for _, ctx := range requiredContexts(r, pr.baseRef) {
		if !s.contextSucceeded(r, pr.headSHA, ctx) {
			unmet = append(unmet, fmt.Sprintf("Required status check %q is expected.", ctx))
		}
	}
	if p := r.protection[pr.baseRef]; p != nil && approvals(pr) < p.RequiredApprovals {
		unmet = append(unmet, fmt.Sprintf("At least %d approving review is required by reviewers with write access.", p.RequiredApprovals))
	}
	return unmet
}

// approvals counts reviewers whose latest review approves. Callers hold s.mu.
func approvals(pr *pullRequest) int {
	latest := map[string]string{}
	for _, rv := range pr.reviews {
		if rv.state == "COMMENTED" {
			continue // a comment does not replace an approval
		}
		latest[rv.author.Login] = rv.state
	}
	n := 0
	for _, st := range latest {
		if st == "APPROVED" {
			n++
		}
	}
	return n
}

// contextSucceeded: the latest status with this context, or the latest check
// run with this name, succeeded. Callers hold s.mu.
func (s *Server) contextSucceeded(r *repo, sha, ctx string) bool {
	return contextState(r, sha, ctx) == "success"
}

// contextState is the outcome of the latest status with this context, or
// else of the latest check run with this name: success, failure, or
// pending (still running, or nothing reported yet). Callers hold s.mu.
func contextState(r *repo, sha, ctx string) string {
	for i := len(r.statuses) - 1; i >= 0; i-- {
		st := r.statuses[i]
		if st.sha == sha && st.context == ctx {
			switch st.state {
			case "success":
				return "success"
			case "pending":
				return "pending"
			}
			return "failure"
		}
	}
	for i := len(r.checkRuns) - 1; i >= 0; i-- {
		c := r.checkRuns[i]
		if c.headSHA == sha && c.name == ctx {
			switch {
			case c.status != "completed":
				return "pending"
			case c.conclusion == "success" || c.conclusion == "neutral" || c.conclusion == "skipped":
				return "success"
			}
			return "failure"
		}
	}
	return "pending"
}

// anyCheckFailing: some status or check run on sha failed. Callers hold s.mu.
func (s *Server) anyCheckFailing(r *repo, sha string) bool {
	latest := map[string]string{}
	for _, st := range r.statuses {
		if st.sha == sha {
			latest["s:"+st.context] = st.state
		}
	}
	for _, c := range r.checkRuns {
		if c.headSHA == sha && c.status == "completed" {
			latest["c:"+c.name] = c.conclusion
		}
	}
	for _, v := range latest {
		switch v {
		case "failure", "error", "timed_out", "cancelled", "action_required":
			return true
		}
	}
	return false
}

// errNotMergeable and friends are the reasons a merge is refused, with GitHub's messages.
var (
	errNotMergeable = errors.New("Pull Request is not mergeable")
	errHeadChanged  = errors.New("Head branch was modified. Review and try the merge again.")
	errClosed       = errors.New("Pull Request is not open")
)
