package githubtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

// groupEvent is a merge_group delivery, with the reason go-github v60 does
// not decode.
type groupEvent struct {
	Action     string
	Reason     string
	MergeGroup struct {
		HeadSHA string `json:"head_sha"`
		HeadRef string `json:"head_ref"`
		BaseSHA string `json:"base_sha"`
		BaseRef string `json:"base_ref"`
	} `json:"merge_group"`
}

func groupEvents(t *testing.T, s *Server, rc *receiver) []groupEvent {
	t.Helper()
	s.WaitForDeliveries()
	var out []groupEvent
	for _, r := range rc.got() {
		if r.event != "merge_group" {
			continue
		}
		if _, ok := r.parsed.(*github.MergeGroupEvent); !ok {
			t.Errorf("go-github parsed merge_group as %T", r.parsed)
		}
		var e groupEvent
		if err := json.Unmarshal(r.payload, &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func describe(es []groupEvent) string {
	var parts []string
	for _, e := range es {
		parts = append(parts, strings.TrimSpace(e.Action+" "+e.Reason))
	}
	return strings.Join(parts, ", ")
}

// openPR pushes one file on a new branch and opens a pull request for it.
func (f *fixture) openPR(t testing.TB, branch, file string) (int, string) {
	t.Helper()
	sha := f.s.Commit(testRepo, branch, map[string]string{file: branch + "\n"}, "add "+file)
	return f.s.OpenPR(testRepo, PROptions{Head: branch, Title: branch, Author: "alice"}), sha
}

// passCheck reports a required check as the bot would, on a merge group.
func (f *fixture) passCheck(t testing.TB, sha, name, conclusion string) {
	t.Helper()
	must[*github.CheckRun](t)(f.gh.Checks.CreateCheckRun(f.ctx, "acme", "infra", github.CreateCheckRunOptions{
		Name: name, HeadSHA: sha, Conclusion: github.String(conclusion)}))
}

// TestMergeQueueMergesWhenRequiredChecksPass: an enqueued pull request gets
// a merge group (base + PR) announced with merge_group checks_requested;
// once the required check succeeds on the group's commit, the base branch
// moves to it, the pull request is merged and a push announces it.
func TestMergeQueueMergesWhenRequiredChecksPass(t *testing.T) {
	f := newFixture(t)
	rc := listen(t, f.s)
	f.s.RequireMergeQueue(testRepo, "main")
	f.s.AddRuleset(testRepo, Ruleset{Name: "tugboat", Branches: []string{"main"}, RequiredChecks: []string{"tugboat/prod"}})
	n, head := f.openFeaturePR(t)
	base := f.s.HeadSHA(testRepo, "main")

	_, resp, err := f.gh.PullRequests.Merge(f.ctx, "acme", "infra", n, "", nil)
	if resp == nil || resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(err.Error(), "merge queue") {
		t.Errorf("REST merge into a merge-queue branch: %v", err)
	}
	f.passCheck(t, head, "tugboat/prod", "success")
	f.s.EnqueuePR(testRepo, n, "bob")

	q := f.s.MergeQueue(testRepo, "main")
	if len(q) != 1 || q[0].Number != n || q[0].BaseSHA != base || q[0].HeadRef != fmt.Sprintf("refs/heads/gh-readonly-queue/main/pr-%d-%s", n, head) {
		t.Fatalf("queue = %+v", q)
	}
	group := q[0].HeadSHA
	c := must[*github.Commit](t)(f.gh.Git.GetCommit(f.ctx, "acme", "infra", group))
	if len(c.Parents) != 2 || c.Parents[0].GetSHA() != base || c.Parents[1].GetSHA() != head {
		t.Errorf("group commit parents = %v, want [main, PR head]", c.Parents)
	}
	events := groupEvents(t, f.s, rc)
	if len(events) != 1 || events[0].Action != "checks_requested" || events[0].MergeGroup.HeadSHA != group ||
		events[0].MergeGroup.BaseSHA != base || events[0].MergeGroup.BaseRef != "refs/heads/main" || events[0].MergeGroup.HeadRef != q[0].HeadRef {
		t.Fatalf("merge_group events = %+v", events)
	}
	if pr := f.s.PR(testRepo, n); pr.Merged || f.s.HeadSHA(testRepo, "main") != base {
		t.Fatalf("merged before the group's checks passed")
	}

	f.passCheck(t, group, "tugboat/prod", "success")
	if got := f.s.HeadSHA(testRepo, "main"); got != group {
		t.Fatalf("main = %s, want the group commit %s", got, group)
	}
	pr := must[*github.PullRequest](t)(f.gh.PullRequests.Get(f.ctx, "acme", "infra", n))
	if !pr.GetMerged() || pr.GetMergeCommitSHA() != group || pr.GetMergedBy().GetLogin() != "bob" {
		t.Errorf("PR after the queue merged it: merged %v sha %s by %s", pr.GetMerged(), pr.GetMergeCommitSHA(), pr.GetMergedBy().GetLogin())
	}
	if len(f.s.MergeQueue(testRepo, "main")) != 0 || f.s.HeadSHA(testRepo, strings.TrimPrefix(q[0].HeadRef, "refs/heads/")) != "" {
		t.Errorf("the queue and its branch are not empty after the merge")
	}
	pulls := must[[]*github.PullRequest](t)(f.gh.PullRequests.ListPullRequestsWithCommit(f.ctx, "acme", "infra", group, nil))
	if len(pulls) != 1 || pulls[0].GetNumber() != n {
		t.Errorf("commits/%s/pulls = %d pulls", group[:7], len(pulls))
	}
	events = groupEvents(t, f.s, rc)
	if describe(events) != "checks_requested, destroyed merged" {
		t.Errorf("merge_group events = %s", describe(events))
	}
	var order []string
	for _, r := range rc.got() {
		switch ev := r.parsed.(type) {
		case *github.PushEvent:
			if ev.GetRef() == "refs/heads/main" && ev.GetAfter() == group && ev.GetBefore() == base {
				order = append(order, "push")
			}
		case *github.PullRequestEvent:
			if ev.GetAction() == "closed" && ev.GetPullRequest().GetMerged() {
				order = append(order, "closed")
			}
		}
	}
	if strings.Join(order, ",") != "closed,push" {
		t.Errorf("after the merge: %v, want the PR closed as merged, then the push of main", order)
	}
}

// TestMergeQueueFailedCheckDequeues: a required check failing on a group
// removes its pull request from the queue (destroyed, dequeued); the group
// built on top of it is rebuilt on the base (destroyed, invalidated, then
// checks_requested) and merges when its own check passes.
func TestMergeQueueFailedCheckDequeues(t *testing.T) {
	f := newFixture(t)
	rc := listen(t, f.s)
	f.s.RequireMergeQueue(testRepo, "main")
	f.s.Protect(testRepo, "main", BranchProtection{RequiredContexts: []string{"ci"}})
	one, head1 := f.openPR(t, "one", "one.txt")
	two, head2 := f.openPR(t, "two", "two.txt")
	f.s.SetStatus(testRepo, head1, "ci", "success", "ci-bot")
	f.s.SetStatus(testRepo, head2, "ci", "success", "ci-bot")
	base := f.s.HeadSHA(testRepo, "main")
	f.s.EnqueuePR(testRepo, one, "bob")
	f.s.EnqueuePR(testRepo, two, "bob")
	q := f.s.MergeQueue(testRepo, "main")
	if len(q) != 2 || q[1].BaseSHA != q[0].HeadSHA {
		t.Fatalf("second group is not built on the first: %+v", q)
	}
	f.s.SetStatus(testRepo, q[0].HeadSHA, "ci", "failure", "ci-bot")

	after := f.s.MergeQueue(testRepo, "main")
	if len(after) != 1 || after[0].Number != two || after[0].BaseSHA != base || after[0].HeadSHA == q[1].HeadSHA {
		t.Fatalf("queue after #%d failed = %+v", one, after)
	}
	if pr := f.s.PR(testRepo, one); pr.Merged || pr.State != "open" {
		t.Errorf("#%d after failing in the queue: merged %v state %s; want open, not merged", one, pr.Merged, pr.State)
	}
	events := groupEvents(t, f.s, rc)
	if got := describe(events); got != "checks_requested, checks_requested, destroyed dequeued, destroyed invalidated, checks_requested" {
		t.Errorf("merge_group events = %s", got)
	}
	if last := events[len(events)-1]; last.MergeGroup.HeadSHA != after[0].HeadSHA || last.MergeGroup.BaseSHA != base {
		t.Errorf("rebuilt group announced as %+v", last.MergeGroup)
	}
	f.s.SetStatus(testRepo, after[0].HeadSHA, "ci", "success", "ci-bot")
	if pr := f.s.PR(testRepo, two); !pr.Merged || f.s.HeadSHA(testRepo, "main") != after[0].HeadSHA {
		t.Errorf("#%d not merged after its rebuilt group passed", two)
	}
	if _, _, _, err := f.gh.Repositories.GetContents(f.ctx, "acme", "infra", "one.txt", nil); err == nil {
		t.Errorf("the dequeued pull request's file reached main")
	}
}

// TestMergeQueueRebuildsWhenBaseMoves: a direct push to the base
// invalidates the group, which is rebuilt on the new head; a push to a
// queued pull request removes it; with nothing required, a group merges
// as soon as it is built.
func TestMergeQueueRebuildsWhenBaseMoves(t *testing.T) {
	f := newFixture(t)
	rc := listen(t, f.s)
	f.s.RequireMergeQueue(testRepo, "main")
	f.s.AddRuleset(testRepo, Ruleset{Name: "ci", Branches: []string{"~DEFAULT_BRANCH"}, RequiredChecks: []string{"ci"}})
	n, head := f.openFeaturePR(t)
	f.s.SetStatus(testRepo, head, "ci", "success", "ci-bot")
	f.s.EnqueuePR(testRepo, n, "bob")
	moved := f.s.Commit(testRepo, "main", map[string]string{"hotfix.txt": "x\n"}, "hotfix")
	q := f.s.MergeQueue(testRepo, "main")
	if len(q) != 1 || q[0].BaseSHA != moved {
		t.Fatalf("queue after main moved = %+v, want a group on %s", q, moved)
	}
	if got := describe(groupEvents(t, f.s, rc)); got != "checks_requested, destroyed invalidated, checks_requested" {
		t.Errorf("merge_group events = %s", got)
	}
	// A push to the queued pull request takes it out of the queue.
	f.s.Commit(testRepo, "feature", map[string]string{"more.txt": "y\n"}, "more")
	if q := f.s.MergeQueue(testRepo, "main"); len(q) != 0 {
		t.Errorf("queue after a push to the PR = %+v", q)
	}
	if got := describe(groupEvents(t, f.s, rc)); !strings.HasSuffix(got, "destroyed dequeued") {
		t.Errorf("merge_group events = %s", got)
	}

	// Nothing required any more (a new repository): merged at once.
	g := newFixture(t)
	g.s.RequireMergeQueue(testRepo, "main")
	m, _ := g.openFeaturePR(t)
	g.s.EnqueuePR(testRepo, m, "bob")
	if pr := g.s.PR(testRepo, m); !pr.Merged || g.s.HeadSHA(testRepo, "main") != pr.MergeCommitSHA {
		t.Errorf("with no required checks the queue did not merge at once: %+v", pr)
	}
}

// TestGraphQLEnqueuePullRequest: githubv4's enqueuePullRequest mutation,
// with the head guard, the refusals, and the permission it needs.
func TestGraphQLEnqueuePullRequest(t *testing.T) {
	f := newFixture(t)
	n, head := f.openFeaturePR(t)
	node := must[*github.PullRequest](t)(f.gh.PullRequests.Get(f.ctx, "acme", "infra", n)).GetNodeID()
	enqueue := func(input map[string]any) (map[string]any, []string) {
		t.Helper()
		query := `mutation($input:EnqueuePullRequestInput!){enqueuePullRequest(input: $input){mergeQueueEntry{position,state}}}`
		body, _ := json.Marshal(map[string]any{"query": query, "variables": map[string]any{"input": input}})
		req, _ := http.NewRequest("POST", f.s.GraphQLURL(), bytes.NewReader(body))
		resp, err := f.gh.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Data struct {
				EnqueuePullRequest *struct{ MergeQueueEntry map[string]any }
			}
			Errors []struct{ Type, Message string }
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		var errs []string
		for _, e := range out.Errors {
			errs = append(errs, e.Type+": "+e.Message)
		}
		if out.Data.EnqueuePullRequest == nil {
			return nil, errs
		}
		return out.Data.EnqueuePullRequest.MergeQueueEntry, errs
	}
	if _, errs := enqueue(map[string]any{"pullRequestId": node}); len(errs) != 1 || !strings.Contains(errs[0], "Merge queue is not enabled") {
		t.Errorf("no merge queue: %v", errs)
	}
	f.s.RequireMergeQueue(testRepo, "main")
	f.s.Protect(testRepo, "main", BranchProtection{RequiredContexts: []string{"ci"}})
	if _, errs := enqueue(map[string]any{"pullRequestId": node}); len(errs) != 1 || !strings.Contains(errs[0], `Required status check "ci" is expected`) {
		t.Errorf("ci not passed on the PR: %v", errs)
	}
	f.s.SetStatus(testRepo, head, "ci", "success", "ci-bot")
	if _, errs := enqueue(map[string]any{"pullRequestId": node, "expectedHeadOid": strings.Repeat("a", 40)}); len(errs) != 1 || !strings.Contains(errs[0], "Head branch was modified") {
		t.Errorf("stale expected head: %v", errs)
	}
	f.s.SetInstallationPermission(f.instID, "contents", "read")
	if _, errs := enqueue(map[string]any{"pullRequestId": node}); len(errs) != 1 || errs[0] != "FORBIDDEN: Resource not accessible by integration" {
		t.Errorf("contents: read only: %v", errs)
	}
	f.s.SetInstallationPermission(f.instID, "contents", "write")
	entry, errs := enqueue(map[string]any{"pullRequestId": node, "expectedHeadOid": head})
	if len(errs) > 0 || entry["position"] != float64(1) || entry["state"] != "AWAITING_CHECKS" || len(entry) != 2 {
		t.Errorf("enqueued: %v %v (only the selected fields, please)", entry, errs)
	}
	if q := f.s.MergeQueue(testRepo, "main"); len(q) != 1 || q[0].Number != n {
		t.Errorf("queue = %+v", q)
	}
	if _, errs := enqueue(map[string]any{"pullRequestId": node}); len(errs) != 1 || !strings.Contains(errs[0], "already in the merge queue") {
		t.Errorf("twice: %v", errs)
	}
	if _, errs := enqueue(map[string]any{"pullRequestId": "PR_nope"}); len(errs) != 1 || !strings.HasPrefix(errs[0], "NOT_FOUND") {
		t.Errorf("unknown node: %v", errs)
	}
}
