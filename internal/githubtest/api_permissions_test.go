package githubtest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

// TestInstallationPermissions: a call the installation's accepted
// permissions do not cover is GitHub's 403 "Resource not accessible by
// integration"; accepting the permission makes it work.
func TestInstallationPermissions(t *testing.T) {
	f := newFixture(t)
	n, _ := f.openFeaturePR(t)
	f.s.SetInstallationPermission(f.instID, "deployments", "")
	f.s.SetInstallationPermission(f.instID, "contents", "read")
	forbidden := func(what string, resp *github.Response, err error) {
		t.Helper()
		if resp == nil || resp.StatusCode != http.StatusForbidden || !strings.Contains(err.Error(), "Resource not accessible by integration") {
			t.Errorf("%s: %v", what, err)
		}
	}
	_, resp, err := f.gh.Repositories.CreateDeployment(f.ctx, "acme", "infra", &github.DeploymentRequest{
		Ref: github.String("main"), AutoMerge: github.Bool(false), RequiredContexts: noContexts()})
	forbidden("create a deployment without deployments", resp, err)
	_, resp, err = f.gh.Repositories.ListDeployments(f.ctx, "acme", "infra", nil)
	forbidden("list deployments without deployments", resp, err)
	_, resp, err = f.gh.PullRequests.Merge(f.ctx, "acme", "infra", n, "", nil)
	forbidden("merge with contents: read", resp, err)
	if f.s.PR(testRepo, n).Merged {
		t.Fatalf("merged without the permission")
	}
	// Reading needs only what is still granted.
	if _, _, _, err := f.gh.Repositories.GetContents(f.ctx, "acme", "infra", "README.md", nil); err != nil {
		t.Errorf("contents: read still reads: %v", err)
	}
	if _, _, err := f.gh.Repositories.GetPermissionLevel(f.ctx, "acme", "infra", "alice"); err != nil {
		t.Errorf("metadata is always granted: %v", err)
	}
	inst := must[*github.Installation](t)(newAppClient(t, f.s).Apps.GetInstallation(f.ctx, f.instID))
	if p := inst.GetPermissions(); p.GetDeployments() != "" || p.GetContents() != "read" || p.GetChecks() != "write" {
		t.Errorf("installation permissions = deployments %q contents %q checks %q", p.GetDeployments(), p.GetContents(), p.GetChecks())
	}

	f.s.SetInstallationPermission(f.instID, "deployments", "write")
	f.s.SetInstallationPermission(f.instID, "contents", "write")
	if _, _, err := f.gh.Repositories.CreateDeployment(f.ctx, "acme", "infra", &github.DeploymentRequest{
		Ref: github.String("main"), AutoMerge: github.Bool(false), RequiredContexts: noContexts()}); err != nil {
		t.Errorf("after accepting deployments: %v", err)
	}
	if _, _, err := f.gh.PullRequests.Merge(f.ctx, "acme", "infra", n, "", nil); err != nil {
		t.Errorf("after accepting contents: write: %v", err)
	}
}
