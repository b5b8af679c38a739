package githubtest

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// The merge queue, as GitHub runs it for a branch whose ruleset has a
// merge_queue rule (RequireMergeQueue, AddRuleset):
//
//   - Enqueueing (EnqueuePR, GraphQL enqueuePullRequest) needs an open,
//     non-draft, conflict-free pull request whose requirements are met.
//   - Each entry gets a merge group: its own commit, the entry before it
//     (or the branch head) merged with the pull request's head (method
//     MERGE: a merge commit; SQUASH and REBASE: one commit on the base), on
//     the branch gh-readonly-queue/<base>/pr-<n>-<head sha>, announced with
//     merge_group checks_requested. One pull request per group (GitHub's
//     ALLGREEN with groups of one).
//   - When every required context (branch protection's and the rulesets')
//     has succeeded on the front entry's group commit, the base branch
//     fast-forwards to it: merge_group destroyed (merged), the pull request
//     closed as merged with merge_commit_sha = the group commit, push. With
//     no required contexts that happens at once.
//   - A required context failing on a group removes its pull request from
//     the queue (destroyed, dequeued); so does a push to the pull request or
//     closing it. Entries after a removed one, or all of them when the base
//     branch moved under the queue, get new groups (destroyed, invalidated;
//     then checks_requested again).
//   - The queue is settled after every change that can move it: a status or
//     check run on a group commit, a push, closing a pull request, a change
//     of rules. AdvanceMergeQueue settles it on demand.
//   - Pushes of the gh-readonly-queue branches are not announced, and
//     check_response_timeout_minutes is not modelled.

var (
	errNoMergeQueue = errors.New("Merge queue is not enabled for the base branch")
	errQueued       = errors.New("Pull request is already in the merge queue")
	errUseQueue     = errors.New("Repository rule violations found\n\nChanges must be made through the merge queue")
)

// QueueEntry is a pull request in a merge queue, with its merge group.
type QueueEntry struct {
	Number int
	// PRHead is the pull request's head the group was built from.
	PRHead string
	// HeadSHA is the merge group's commit and HeadRef its full ref
	// (refs/heads/gh-readonly-queue/...); BaseSHA is its parent on the
	// base side.
	HeadSHA, HeadRef, BaseSHA string
}

// MergeQueue lists branch's merge queue, front first.
func (s *Server) MergeQueue(repo, branch string) []QueueEntry {
	r, err := s.repo(repo)
	if err != nil {
		s.fatalf("MergeQueue: %v", err)
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []QueueEntry
	for _, e := range r.queues[branch] {
		out = append(out, QueueEntry{Number: e.pr.number, PRHead: e.prHead, HeadSHA: e.headSHA, HeadRef: e.ref, BaseSHA: e.baseSHA})
	}
	return out
}

// EnqueuePR adds pull request n to its base branch's merge queue as login,
// as "Merge when ready" does, and fails the test if GitHub would refuse.
func (s *Server) EnqueuePR(repo string, n int, login string) {
	if err := s.enqueue(repo, n, login, ""); err != nil {
		s.fatalf("EnqueuePR %s#%d: %v", repo, n, err)
	}
}

// AdvanceMergeQueue settles repo's merge queues now: merges groups whose
// required checks passed, removes failed ones, rebuilds stale ones. The
// emulator does this by itself after every change it sees; tests call it
// after changing what is required.
func (s *Server) AdvanceMergeQueue(repo string) {
	r, err := s.repo(repo)
	if err != nil {
		s.fatalf("AdvanceMergeQueue: %v", err)
		return
	}
	s.advanceQueues(r)
}

// enqueue puts a pull request in its base's merge queue; expectHead, when
// set, must be its head.
func (s *Server) enqueue(full string, n int, login, expectHead string) error {
	r, pr, by, err := s.pullAndUser(full, n, login)
	if err != nil {
		return err
	}
	s.gitMu.Lock()
	s.mu.Lock()
	var refuse error
	switch {
	case pr.state != "open":
		refuse = errClosed
	case mergeQueueFor(r, pr.baseRef) == nil:
		refuse = errNoMergeQueue
	case expectHead != "" && expectHead != pr.headSHA:
		refuse = errHeadChanged
	case pr.conflict || pr.draft:
		refuse = errNotMergeable
	case queued(r, pr):
		refuse = errQueued
	default:
		if unmet := s.unmetRequirements(r, pr); len(unmet) > 0 {
			refuse = fmt.Errorf("Repository rule violations found\n\n%s", strings.Join(unmet, "\n"))
		}
	}
	base := pr.baseRef
	q := r.queues[base]
	parent := ""
	if len(q) > 0 {
		parent = q[len(q)-1].headSHA
	}
	s.mu.Unlock()
	if refuse != nil {
		s.gitMu.Unlock()
		return refuse
	}
	if parent == "" {
		parent = r.git().branchHead(base)
	}
	e := &queueEntry{pr: pr, by: by}
	var after []func()
	err = s.buildGroup(r, base, e, parent, &after)
	if err == nil {
		s.mu.Lock()
		if r.queues == nil {
			r.queues = map[string][]*queueEntry{}
		}
		r.queues[base] = append(r.queues[base], e)
		s.mu.Unlock()
	}
	s.gitMu.Unlock()
	for _, f := range after {
		f()
	}
	if err != nil {
		return err
	}
	s.advanceQueue(r, base)
	return nil
}

// queued reports whether pr waits in a merge queue. Callers hold s.mu.
func queued(r *repo, pr *pullRequest) bool {
	for _, e := range r.queues[pr.baseRef] {
		if e.pr == pr {
			return true
		}
	}
	return false
}

// buildGroup makes e's merge group on parent and queues its
// checks_requested announcement in after. A conflict is an error (the pull
// request cannot join or stay in the queue). Callers hold s.gitMu.
func (s *Server) buildGroup(r *repo, base string, e *queueEntry, parent string, after *[]func()) error {
	s.mu.Lock()
	pr := e.pr
	head, number, title := pr.headSHA, pr.number, pr.title
	label := pr.headRepo.owner.Login + "/" + pr.headRef
	method := "MERGE"
	if mq := mergeQueueFor(r, base); mq != nil {
		method = mq.Method
	}
	s.mu.Unlock()
	g := r.git()
	tree, conflict, err := g.testMerge(parent, head)
	if err != nil {
		return err
	}
	if conflict {
		return errNotMergeable
	}
	who := signature{Name: "GitHub", Email: "noreply@github.com", When: time.Now().UTC()}
	var sha string
	if method == "MERGE" {
		sha, err = g.commitTree(tree, []string{parent, head}, fmt.Sprintf("Merge pull request #%d from %s\n\n%s", number, label, title), who)
	} else {
		sha, err = g.commitTree(tree, []string{parent}, fmt.Sprintf("%s (#%d)", title, number), who)
	}
	if err != nil {
		return err
	}
	ref := fmt.Sprintf("refs/heads/gh-readonly-queue/%s/pr-%d-%s", base, number, head)
	if _, err := g.run(nil, "update-ref", ref, sha); err != nil {
		return err
	}
	s.mu.Lock()
	e.prHead, e.baseSHA, e.headSHA, e.ref = head, parent, sha, ref
	group := s.mergeGroupJSON(r, base, e)
	by := e.by
	s.mu.Unlock()
	*after = append(*after, func() { s.emitMergeGroup(r, "checks_requested", group, "", by) })
	return nil
}

// dropGroup deletes e's merge group and queues its destroyed announcement.
// Callers hold s.gitMu.
func (s *Server) dropGroup(r *repo, base string, e *queueEntry, reason string, after *[]func()) {
	if _, err := r.git().run(nil, "update-ref", "-d", e.ref); err != nil {
		s.logf("githubtest: delete %s: %v", e.ref, err)
	}
	s.mu.Lock()
	group := s.mergeGroupJSON(r, base, e)
	by := e.by
	s.mu.Unlock()
	*after = append(*after, func() { s.emitMergeGroup(r, "destroyed", group, reason, by) })
}

// advanceQueues settles every merge queue of r.
func (s *Server) advanceQueues(r *repo) {
	s.mu.Lock()
	var bases []string
	for b, q := range r.queues {
		if len(q) > 0 {
			bases = append(bases, b)
		}
	}
	s.mu.Unlock()
	for _, b := range bases {
		s.advanceQueue(r, b)
	}
}

// advanceQueuesOf settles the queues a change to sha may move: those with
// a group commit sha. Cheap when no queue has one.
func (s *Server) advanceQueuesOf(r *repo, sha string) {
	s.mu.Lock()
	var bases []string
	for b, q := range r.queues {
		for _, e := range q {
			if e.headSHA == sha {
				bases = append(bases, b)
				break
			}
		}
	}
	s.mu.Unlock()
	for _, b := range bases {
		s.advanceQueue(r, b)
	}
}

// advanceAllQueues settles every queue of every repository (after a push,
// which may move a base branch or a pull request's head in a fork).
func (s *Server) advanceAllQueues() {
	s.mu.Lock()
	var repos []*repo
	for _, r := range s.repos {
		if len(r.queues) > 0 {
			repos = append(repos, r)
		}
	}
	s.mu.Unlock()
	for _, r := range repos {
		s.advanceQueues(r)
	}
}

// advanceQueue takes steps until base's queue has nothing left to do.
func (s *Server) advanceQueue(r *repo, base string) {
	for {
		var after []func()
		s.gitMu.Lock()
		merged, changed := s.queueStep(r, base, &after)
		s.gitMu.Unlock()
		for _, f := range after {
			f()
		}
		if merged != nil {
			s.branchMoved(r, base, merged)
		}
		if !changed {
			return
		}
	}
}

// queueStep makes one change to base's queue, if one is due: drop an entry
// that cannot stay, rebuild stale groups, or merge the front group. It
// returns who merged when the base branch moved, and whether anything
// changed. Callers hold s.gitMu.
func (s *Server) queueStep(r *repo, base string, after *[]func()) (merged *User, changed bool) {
	g := r.git()
	branchHead := g.branchHead(base)
	s.mu.Lock()
	q := append([]*queueEntry(nil), r.queues[base]...)
	s.mu.Unlock()
	for i, e := range q {
		s.mu.Lock()
		gone := e.pr.state != "open" || e.pr.headSHA != e.prHead
		outcome := groupOutcome(r, base, e)
		s.mu.Unlock()
		parent := branchHead
		if i > 0 {
			parent = q[i-1].headSHA
		}
		switch {
		case gone || outcome == "failure":
			s.dropGroup(r, base, e, "dequeued", after)
			s.rebuild(r, base, append(q[:i:i], q[i+1:]...), i, after)
			return nil, true
		case e.baseSHA != parent:
			s.rebuild(r, base, q, i, after)
			return nil, true
		}
	}
	if len(q) == 0 {
		return nil, false
	}
	front := q[0]
	s.mu.Lock()
	ready := groupOutcome(r, base, front) == "success"
	s.mu.Unlock()
	if !ready {
		return nil, false
	}
	if err := g.updateRef("refs/heads/"+base, front.headSHA, front.baseSHA); err != nil {
		s.logf("githubtest: merge queue of %s %s: %v", r.fullName(), base, err)
		return nil, false
	}
	s.dropGroup(r, base, front, "merged", after)
	now := time.Now().UTC()
	s.mu.Lock()
	pr := front.pr
	pr.state, pr.merged, pr.mergedBy = "closed", true, front.by
	pr.mergedAt, pr.closedAt, pr.updatedAt = &now, &now, now
	pr.mergeCommitSHA = front.headSHA
	r.pushedAt = now
	r.queues[base] = q[1:]
	s.mu.Unlock()
	by, before, after2 := front.by, front.baseSHA, front.headSHA
	*after = append(*after,
		func() { s.emitPull(r, pr, "closed", by, nil) },
		func() { s.emitPush(r, base, before, after2, by) },
	)
	return by, true
}

// rebuild gives entries q[from:] new groups (each on the one before it),
// dropping those whose pull request no longer merges, and stores q as the
// queue. Callers hold s.gitMu.
func (s *Server) rebuild(r *repo, base string, q []*queueEntry, from int, after *[]func()) {
	parent := r.git().branchHead(base)
	if from > 0 {
		parent = q[from-1].headSHA
	}
	keep := append([]*queueEntry(nil), q[:from]...)
	for _, e := range q[from:] {
		s.mu.Lock()
		gone := e.pr.state != "open" || e.pr.headSHA != e.prHead
		s.mu.Unlock()
		if gone {
			s.dropGroup(r, base, e, "dequeued", after)
			continue
		}
		s.dropGroup(r, base, e, "invalidated", after)
		if err := s.buildGroup(r, base, e, parent, after); err != nil {
			s.logf("githubtest: merge queue of %s %s: #%d leaves the queue: %v", r.fullName(), base, e.pr.number, err)
			continue
		}
		keep = append(keep, e)
		parent = e.headSHA
	}
	s.mu.Lock()
	r.queues[base] = keep
	s.mu.Unlock()
}

// groupOutcome is the state of e's group commit over the contexts base
// requires: failure if one failed, pending if one has not succeeded yet,
// else success. Callers hold s.mu.
func groupOutcome(r *repo, base string, e *queueEntry) string {
	outcome := "success"
	for _, ctx := range requiredContexts(r, base) {
		switch contextState(r, e.headSHA, ctx) {
		case "failure":
			return "failure"
		case "pending":
			outcome = "pending"
		}
	}
	return outcome
}

// mergeGroupJSON is a merge group as merge_group events carry it. Callers hold s.mu.
func (s *Server) mergeGroupJSON(r *repo, base string, e *queueEntry) obj {
	info := s.commitInfo(r, e.headSHA)
	return obj{
		"head_sha": e.headSHA, "head_ref": e.ref, "base_sha": e.baseSHA, "base_ref": "refs/heads/" + base,
		"head_commit": obj{
			"id": e.headSHA, "tree_id": info.tree, "message": info.message, "timestamp": ts(info.committer.When),
			"author":    obj{"name": info.author.Name, "email": info.author.Email},
			"committer": obj{"name": info.committer.Name, "email": info.committer.Email},
		},
	}
}
