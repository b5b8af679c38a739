package githubtest

import (
	"net/http"
	"testing"

	"github.com/google/go-github/v60/github"
)

// TestDeletedForkPR: once a fork is deleted the API no longer knows it, and
// its open pull request shows head.repo null — through REST (no contract
// failure: the description is corrected for it) and in webhooks.
func TestDeletedForkPR(t *testing.T) {
	f := newFixture(t)
	rc := listen(t, f.s)
	fork := f.s.Fork(testRepo, "mallory")
	f.s.Commit(fork, "evil", map[string]string{"a.yaml": "a: 1\n"}, "fork change")
	n := f.s.OpenPR(testRepo, PROptions{Head: "evil", HeadRepo: fork, Author: "mallory", Draft: true})
	pr := must[*github.PullRequest](t)(f.gh.PullRequests.Get(f.ctx, "acme", "infra", n))
	if pr.GetHead().GetRepo().GetFullName() != fork {
		t.Fatalf("head.repo = %q before the delete, want %s", pr.GetHead().GetRepo().GetFullName(), fork)
	}

	f.s.DeleteRepo(fork)
	if _, resp, err := f.gh.Repositories.Get(f.ctx, "mallory", "infra"); err == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET the deleted fork: %v, want 404", err)
	}
	pr = must[*github.PullRequest](t)(f.gh.PullRequests.Get(f.ctx, "acme", "infra", n))
	if pr.GetHead().Repo != nil || pr.GetState() != "open" || pr.GetHead().GetSHA() == "" {
		t.Fatalf("after the delete: state %s, head %+v; want open, a head sha and head.repo null", pr.GetState(), pr.GetHead())
	}
	list := must[[]*github.PullRequest](t)(f.gh.PullRequests.List(f.ctx, "acme", "infra", nil))
	if len(list) != 1 || list[0].GetHead().Repo != nil {
		t.Fatalf("listed: %+v, want the PR with head.repo null", list)
	}
	f.s.ReadyForReview(testRepo, n, "mallory")
	f.s.WaitForDeliveries()
	got := rc.got()
	last, ok := got[len(got)-1].parsed.(*github.PullRequestEvent)
	if !ok || last.GetAction() != "ready_for_review" || last.GetPullRequest().GetHead().Repo != nil {
		t.Fatalf("last delivery %+v, want ready_for_review with head.repo null", got[len(got)-1].event)
	}
}
