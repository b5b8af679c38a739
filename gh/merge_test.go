package gh

import (
	"context"
	"strings"
	"testing"

	"github.com/tugboatops/tugboat/internal/githubtest"
)

// Merge guards on the head it was given; once merged, the pull request
// says so with the commit the merge made, and commits/{sha}/pulls leads
// from that commit back to it.
func TestMergeWithHeadGuard(t *testing.T) {
	s, c, repo := emulated(t)
	ctx := context.Background()
	s.Protect("acme/infra", "main", githubtest.BranchProtection{RequiredContexts: []string{"ci"}})
	head := s.Commit("acme/infra", "feature/x", map[string]string{"deploy/app.yaml": "kind: Secret\n"}, "change")
	n := s.OpenPR("acme/infra", githubtestPR("feature/x"))
	pr, err := c.PullRequest(ctx, repo, n, MergeablePolicy{})
	if err != nil {
		t.Fatal(err)
	}
	if pr.NodeID == "" || pr.HeadRef != "feature/x" || pr.MergeableState != "blocked" || pr.Merged || pr.MergedSHA != "" {
		t.Errorf("open PR = %+v", pr)
	}
	if err := c.Merge(ctx, repo, n, head, "merge"); err == nil || !strings.Contains(err.Error(), `Required status check "ci" is expected`) {
		t.Errorf("merge while blocked: %v", err)
	}
	s.SetStatus("acme/infra", head, "ci", "success", "ci-bot")
	if err := c.Merge(ctx, repo, n, strings.Repeat("a", 40), "squash"); err == nil || !strings.Contains(err.Error(), "Head branch was modified") {
		t.Errorf("merge of a stale head: %v", err)
	}
	if err := c.Merge(ctx, repo, n, head, "squash"); err != nil {
		t.Fatal(err)
	}
	pr, err = c.PullRequest(ctx, repo, n, MergeablePolicy{})
	main := s.HeadSHA("acme/infra", "main")
	if err != nil || !pr.Merged || pr.MergedSHA != main || pr.State != "closed" || pr.MergeCommitSHA != "" {
		t.Errorf("merged PR = %+v, %v; want merged at main's head %s", pr, err, main)
	}
	for sha, want := range map[string]int{main: n, head: n} {
		if got, err := c.PullsForCommit(ctx, repo, sha); err != nil || len(got) != 1 || got[0] != want {
			t.Errorf("PullsForCommit(%s) = %v, %v; want [%d]", sha[:7], got, err, want)
		}
	}
	direct := s.Commit("acme/infra", "main", map[string]string{"hotfix": "x"}, "direct push")
	if got, err := c.PullsForCommit(ctx, repo, direct); err != nil || len(got) != 0 {
		t.Errorf("a direct push's pulls = %v, %v; want none", got, err)
	}
}

// Enqueue puts a pull request in the merge queue; the queue merges it
// once the required check passes on the merge group.
func TestEnqueueIntoMergeQueue(t *testing.T) {
	s, c, repo := emulated(t)
	ctx := context.Background()
	s.RequireMergeQueue("acme/infra", "main")
	s.AddRuleset("acme/infra", githubtest.Ruleset{Name: "tugboat", Branches: []string{"main"}, RequiredChecks: []string{"tugboat/prod"}})
	head := s.Commit("acme/infra", "feature", map[string]string{"deploy/app.yaml": "kind: Secret\n"}, "change")
	n := s.OpenPR("acme/infra", githubtestPR("feature"))
	pr, err := c.PullRequest(ctx, repo, n, MergeablePolicy{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateCheckRun(ctx, repo, CheckRun{Name: "tugboat/prod", HeadSHA: head, Status: "completed", Conclusion: "success", Title: "ok", Summary: "ok"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Enqueue(ctx, pr.NodeID, strings.Repeat("b", 40)); err == nil || !strings.Contains(err.Error(), "Head branch was modified") {
		t.Errorf("enqueue of a stale head: %v", err)
	}
	if err := c.Enqueue(ctx, pr.NodeID, head); err != nil {
		t.Fatal(err)
	}
	q := s.MergeQueue("acme/infra", "main")
	if len(q) != 1 || q[0].Number != n || q[0].PRHead != head {
		t.Fatalf("queue = %+v", q)
	}
	if _, err := c.CreateCheckRun(ctx, repo, CheckRun{Name: "tugboat/prod", HeadSHA: q[0].HeadSHA, Status: "completed", Conclusion: "success", Title: "ok", Summary: "ok"}); err != nil {
		t.Fatal(err)
	}
	pr, err = c.PullRequest(ctx, repo, n, MergeablePolicy{})
	if err != nil || !pr.Merged || pr.MergedSHA != q[0].HeadSHA || s.HeadSHA("acme/infra", "main") != q[0].HeadSHA {
		t.Errorf("after the group passed: %+v, %v; want merged at %s", pr, err, q[0].HeadSHA)
	}
}
