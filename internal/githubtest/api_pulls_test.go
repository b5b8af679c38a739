package githubtest

import (
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

func TestPullRequestEndpoints(t *testing.T) {
	f := newFixture(t)
	n, head := f.openFeaturePR(t)

	pr := must[*github.PullRequest](t)(f.gh.PullRequests.Get(f.ctx, "acme", "infra", n))
	if pr.GetHead().GetSHA() != head || pr.GetHead().GetRef() != "feature" || pr.GetBase().GetRef() != "main" {
		t.Errorf("head/base = %s@%s -> %s, want feature@%s -> main", pr.GetHead().GetRef(), pr.GetHead().GetSHA(), pr.GetBase().GetRef(), head)
	}
	if !pr.GetMergeable() || pr.GetMergeableState() != "clean" {
		t.Errorf("mergeable = %v/%s, want true/clean", pr.GetMergeable(), pr.GetMergeableState())
	}
	if pr.GetUser().GetLogin() != "alice" || pr.GetTitle() != "Green" {
		t.Errorf("author/title = %s/%s", pr.GetUser().GetLogin(), pr.GetTitle())
	}
	if pr.GetChangedFiles() != 1 || pr.GetAdditions() != 1 || pr.GetDeletions() != 1 {
		t.Errorf("stats = %d files +%d -%d, want 1 +1 -1", pr.GetChangedFiles(), pr.GetAdditions(), pr.GetDeletions())
	}

	list := must[[]*github.PullRequest](t)(f.gh.PullRequests.List(f.ctx, "acme", "infra", nil))
	if len(list) != 1 || list[0].GetNumber() != n {
		t.Errorf("list = %d pulls, want #%d", len(list), n)
	}

	files := must[[]*github.CommitFile](t)(f.gh.PullRequests.ListFiles(f.ctx, "acme", "infra", n, nil))
	if len(files) != 1 || files[0].GetFilename() != "deploy/app.yaml" || files[0].GetStatus() != "modified" {
		t.Fatalf("files = %+v", files)
	}
	if !strings.Contains(files[0].GetPatch(), "-  color: blue\n+  color: green") {
		t.Errorf("patch = %q", files[0].GetPatch())
	}

	byCommit := must[[]*github.PullRequest](t)(f.gh.PullRequests.ListPullRequestsWithCommit(f.ctx, "acme", "infra", head, nil))
	if len(byCommit) != 1 || byCommit[0].GetNumber() != n {
		t.Errorf("pulls of %s = %d, want #%d", head, len(byCommit), n)
	}
}
