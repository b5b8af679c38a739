package githubtest

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

// TestMergeCommitIsARealTestMerge: merge_commit_sha names a commit whose
// parents are the base head and the PR head and whose tree holds both sides.
func TestMergeCommitIsARealTestMerge(t *testing.T) {
	f := newFixture(t)
	n, head := f.openFeaturePR(t)
	// main moves on with an unrelated change: the PR is now behind.
	base := f.s.Commit(testRepo, "main", map[string]string{"deploy/other.yaml": "kind: ConfigMap\n"}, "other")

	pr := must[*github.PullRequest](t)(f.gh.PullRequests.Get(f.ctx, "acme", "infra", n))
	if pr.GetMergeableState() != "behind" || !pr.GetMergeable() {
		t.Errorf("after base moved: mergeable %v state %s, want true/behind", pr.GetMergeable(), pr.GetMergeableState())
	}
	merge := pr.GetMergeCommitSHA()
	c := must[*github.RepositoryCommit](t)(f.gh.Repositories.GetCommit(f.ctx, "acme", "infra", merge, nil))
	if len(c.Parents) != 2 || c.Parents[0].GetSHA() != base || c.Parents[1].GetSHA() != head {
		t.Fatalf("test merge parents = %v, want [%s %s]", c.Parents, base, head)
	}
	for path, want := range map[string]string{"deploy/app.yaml": "color: green", "deploy/other.yaml": "kind: ConfigMap"} {
		file, _, _ := must3(t)(f.gh.Repositories.GetContents(f.ctx, "acme", "infra", path, &github.RepositoryContentGetOptions{Ref: merge}))
		got, _ := file.GetContent()
		if !strings.Contains(got, want) {
			t.Errorf("%s at the test merge = %q, want %q", path, got, want)
		}
	}
}

func TestConflictMakesPRDirty(t *testing.T) {
	f := newFixture(t)
	n, _ := f.openFeaturePR(t)
	before := f.s.PR(testRepo, n).MergeCommitSHA
	f.s.Commit(testRepo, "main", map[string]string{
		"deploy/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  color: red\n",
	}, "red")
	pr := must[*github.PullRequest](t)(f.gh.PullRequests.Get(f.ctx, "acme", "infra", n))
	if pr.GetMergeable() || pr.GetMergeableState() != "dirty" {
		t.Errorf("conflict: mergeable %v state %s, want false/dirty", pr.GetMergeable(), pr.GetMergeableState())
	}
	if pr.GetMergeCommitSHA() != before {
		t.Errorf("merge_commit_sha after conflict = %s, want the last good test merge %s (GitHub keeps it)", pr.GetMergeCommitSHA(), before)
	}
	_, resp, err := f.gh.PullRequests.Merge(f.ctx, "acme", "infra", n, "", nil)
	if resp == nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("merging a conflicting PR: %v", err)
	}
	// Resolving the conflict on the branch makes it mergeable again.
	f.s.Commit(testRepo, "feature", map[string]string{
		"deploy/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  color: red\n",
	}, "take red")
	if got := f.s.PR(testRepo, n); got.Mergeable == nil || !*got.Mergeable || got.MergeCommitSHA == before {
		t.Errorf("after resolving: %+v", got)
	}
}

func TestBranchProtectionBlocks(t *testing.T) {
	f := newFixture(t)
	f.s.Protect(testRepo, "main", BranchProtection{RequiredContexts: []string{"ci"}, RequiredApprovals: 1})
	n, head := f.openFeaturePR(t)
	state := func() string {
		return must[*github.PullRequest](t)(f.gh.PullRequests.Get(f.ctx, "acme", "infra", n)).GetMergeableState()
	}
	if got := state(); got != "blocked" {
		t.Errorf("no approval, no ci: %s, want blocked", got)
	}
	_, resp, err := f.gh.PullRequests.Merge(f.ctx, "acme", "infra", n, "", nil)
	if resp == nil || resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(err.Error(), `Required status check "ci" is expected`) {
		t.Errorf("merge while blocked: %v", err)
	}
	f.s.Approve(testRepo, n, "bob")
	f.s.SetStatus(testRepo, head, "ci", "success", "ci-bot")
	if got := state(); got != "clean" {
		t.Errorf("approved and ci green: %s, want clean", got)
	}
	res := must[*github.PullRequestMergeResult](t)(f.gh.PullRequests.Merge(f.ctx, "acme", "infra", n, "", &github.PullRequestOptions{SHA: head, MergeMethod: "squash"}))
	if !res.GetMerged() || res.GetSHA() != f.s.HeadSHA(testRepo, "main") {
		t.Errorf("merge result = %+v", res)
	}
	pr := f.s.PR(testRepo, n)
	if !pr.Merged || pr.State != "closed" || pr.MergeCommitSHA != res.GetSHA() {
		t.Errorf("after merge: %+v", pr)
	}
}

func TestMergeRefusesStaleHead(t *testing.T) {
	f := newFixture(t)
	n, head := f.openFeaturePR(t)
	f.s.Commit(testRepo, "feature", map[string]string{"more.yaml": "x: 1\n"}, "more")
	_, resp, err := f.gh.PullRequests.Merge(f.ctx, "acme", "infra", n, "", &github.PullRequestOptions{SHA: head})
	if resp == nil || resp.StatusCode != http.StatusConflict {
		t.Errorf("merge with an old head sha: %v, want 409", err)
	}
}

// TestMergeableUnknownAfterPush: GitHub reports mergeable null for a moment
// after a push; clients must retry.
func TestMergeableUnknownAfterPush(t *testing.T) {
	f := newFixture(t, WithMergeableDelay(300*time.Millisecond))
	n, _ := f.openFeaturePR(t)
	pr := must[*github.PullRequest](t)(f.gh.PullRequests.Get(f.ctx, "acme", "infra", n))
	if pr.Mergeable != nil || pr.GetMergeableState() != "unknown" {
		t.Errorf("right after the push: mergeable %v state %s, want null/unknown", pr.Mergeable, pr.GetMergeableState())
	}
	time.Sleep(350 * time.Millisecond)
	pr = must[*github.PullRequest](t)(f.gh.PullRequests.Get(f.ctx, "acme", "infra", n))
	if pr.Mergeable == nil || pr.GetMergeableState() != "clean" {
		t.Errorf("after the delay: mergeable %v state %s, want true/clean", pr.Mergeable, pr.GetMergeableState())
	}
}

func TestForkPullRequest(t *testing.T) {
	f := newFixture(t)
	fork := f.s.Fork(testRepo, "eve")
	head := f.s.Commit(fork, "patch", map[string]string{"deploy/app.yaml": "evil: true\n"}, "from a fork")
	n := f.s.OpenPR(testRepo, PROptions{Head: "patch", HeadRepo: fork, Author: "eve"})
	pr := must[*github.PullRequest](t)(f.gh.PullRequests.Get(f.ctx, "acme", "infra", n))
	if pr.GetHead().GetRepo().GetFullName() != fork || pr.GetHead().GetSHA() != head || !pr.GetHead().GetRepo().GetFork() {
		t.Errorf("fork PR head = %s@%s", pr.GetHead().GetRepo().GetFullName(), pr.GetHead().GetSHA())
	}
	if pr.GetMergeCommitSHA() == "" {
		t.Errorf("fork PR has no test merge")
	}
	next := f.s.Commit(fork, "patch", map[string]string{"deploy/app.yaml": "evil: false\n"}, "again")
	if got := f.s.PR(testRepo, n).HeadSHA; got != next {
		t.Errorf("push to the fork: PR head %s, want %s", got, next)
	}
}

func TestCreatePullViaAPI(t *testing.T) {
	f := newFixture(t)
	f.s.Commit(testRepo, "bump", map[string]string{"v": "2"}, "bump")
	pr := must[*github.PullRequest](t)(f.gh.PullRequests.Create(f.ctx, "acme", "infra", &github.NewPullRequest{
		Title: github.String("Bump"), Head: github.String("bump"), Base: github.String("main"),
	}))
	if pr.GetNumber() != 1 || pr.GetUser().GetLogin() != "tugboat[bot]" {
		t.Errorf("created PR #%d by %s", pr.GetNumber(), pr.GetUser().GetLogin())
	}
	commits := must[[]*github.RepositoryCommit](t)(f.gh.PullRequests.ListCommits(f.ctx, "acme", "infra", 1, nil))
	if len(commits) != 1 || commits[0].GetCommit().GetMessage() != "bump" {
		t.Errorf("commits = %d", len(commits))
	}
}
