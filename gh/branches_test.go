package gh

import (
	"context"
	"strings"
	"testing"

	"github.com/tugboatops/tugboat/internal/githubtest"
)

// Repository, BranchHead, RequiredChecks (branch protection and rulesets
// together) and UsesMergeQueue, on the default branch and on a branch with
// a slash in its name.
func TestBranchRequirements(t *testing.T) {
	s, c, repo := emulated(t)
	ctx := context.Background()
	info, err := c.Repository(ctx, repo)
	if err != nil || info.DefaultBranch != "main" || info.Private || !strings.HasSuffix(info.HTMLURL, "/acme/infra") {
		t.Fatalf("Repository = %+v, %v", info, err)
	}
	release := s.Commit("acme/infra", "release/v1", map[string]string{"x": "y"}, "release")
	if head, err := c.BranchHead(ctx, repo, "release/v1"); err != nil || head != release {
		t.Errorf("BranchHead(release/v1) = %s, %v; want %s", head, err, release)
	}
	if head, err := c.BranchHead(ctx, repo, "main"); err != nil || head != s.HeadSHA("acme/infra", "main") {
		t.Errorf("BranchHead(main) = %s, %v", head, err)
	}
	if _, err := c.BranchHead(ctx, repo, "gone"); !IsNotFound(err) {
		t.Errorf("BranchHead(gone) = %v, want a 404", err)
	}

	checks, err := c.RequiredChecks(ctx, repo, "main")
	if err != nil || checks == nil || len(checks) != 0 {
		t.Errorf("nothing configured: %#v, %v; want an empty list", checks, err)
	}
	if q, err := c.UsesMergeQueue(ctx, repo, "main"); err != nil || q {
		t.Errorf("UsesMergeQueue(main) = %v, %v", q, err)
	}

	s.Protect("acme/infra", "main", githubtest.BranchProtection{RequiredContexts: []string{"ci", "tugboat/prod"}})
	s.AddRuleset("acme/infra", githubtest.Ruleset{Name: "org", Branches: []string{"~DEFAULT_BRANCH"}, RequiredChecks: []string{"tugboat/prod", "security"}})
	s.AddRuleset("acme/infra", githubtest.Ruleset{Name: "releases", Branches: []string{"release/*"}, RequiredChecks: []string{"e2e"}, MergeQueue: &githubtest.MergeQueue{}})
	s.RequireMergeQueue("acme/infra", "main")
	checks, err = c.RequiredChecks(ctx, repo, "main")
	if err != nil || strings.Join(checks, ",") != "ci,tugboat/prod,security" {
		t.Errorf("RequiredChecks(main) = %v, %v; want protection's then the ruleset's, each once", checks, err)
	}
	checks, err = c.RequiredChecks(ctx, repo, "release/v1")
	if err != nil || strings.Join(checks, ",") != "e2e" {
		t.Errorf("RequiredChecks(release/v1) = %v, %v", checks, err)
	}
	for _, b := range []string{"main", "release/v1"} {
		if q, err := c.UsesMergeQueue(ctx, repo, b); err != nil || !q {
			t.Errorf("UsesMergeQueue(%s) = %v, %v; want true", b, q, err)
		}
	}
}
