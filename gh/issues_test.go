package gh

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/tugboatops/tugboat/internal/githubtest"
)

// Issues are opened with a label, listed by it (open and closed, every
// page, pull requests left out), read, edited, closed and reopened.
func TestIssuesByLabelCreateEdit(t *testing.T) {
	s, c, repo := emulated(t)
	ctx := context.Background()
	s.Branch("acme/infra", "feature", "main")
	s.Commit("acme/infra", "feature", map[string]string{"deploy/app.yaml": "kind: Secret\n"}, "change")
	pr := s.OpenPR("acme/infra", githubtest.PROptions{Head: "feature", Title: "a pull request"})
	var want []int
	for i := range 105 {
		is, err := c.CreateIssue(ctx, repo, fmt.Sprint("drift ", i), "body", []string{"tugboat/drift"})
		if err != nil {
			t.Fatal(err)
		}
		if is.State != "open" || is.Author != s.Bot().Login || len(is.Labels) != 1 || is.Labels[0] != "tugboat/drift" || is.HTMLURL == "" {
			t.Fatalf("created %+v", is)
		}
		want = append([]int{is.Number}, want...)
	}
	other, err := c.CreateIssue(ctx, repo, "unrelated", "", []string{"bug"})
	if err != nil {
		t.Fatal(err)
	}
	closed, err := c.EditIssue(ctx, repo, want[3], IssueEdit{State: github.String("closed"), Body: github.String("gone")})
	if err != nil || closed.State != "closed" || closed.Body != "gone" {
		t.Fatalf("close: %+v, %v", closed, err)
	}
	got, err := c.IssuesByLabel(ctx, repo, "tugboat/drift")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d issues, want %d", len(got), len(want))
	}
	for i, is := range got {
		if is.Number != want[i] || is.Number == other.Number || is.Number == pr || is.PullRequest {
			t.Fatalf("issue %d = #%d, want #%d (newest first, only labelled issues)", i, is.Number, want[i])
		}
	}
	if got[3].State != "closed" {
		t.Errorf("closed issue listed as %s", got[3].State)
	}
	re, err := c.EditIssue(ctx, repo, want[3], IssueEdit{State: github.String("open"), Title: github.String("back")})
	if err != nil || re.State != "open" || re.Title != "back" || re.Body != "gone" {
		t.Fatalf("reopen: %+v, %v", re, err)
	}
	read, err := c.GetIssue(ctx, repo, want[3])
	if err != nil || read.Title != "back" || read.PullRequest {
		t.Fatalf("GetIssue: %+v, %v", read, err)
	}
	if p, err := c.GetIssue(ctx, repo, pr); err != nil || !p.PullRequest {
		t.Fatalf("GetIssue of a pull request: %+v, %v", p, err)
	}
	if _, err := c.GetIssue(ctx, repo, 9999); !IsNotFound(err) {
		t.Errorf("GetIssue of nothing: %v, want not found", err)
	}
}
