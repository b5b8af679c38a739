package githubtest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

// branchProtection is the part of GET .../branches/{branch} go-github v60's
// Branch type leaves out.
type branchProtection struct {
	Name       string `json:"name"`
	Protected  bool   `json:"protected"`
	Commit     struct{ SHA string }
	Protection struct {
		Enabled              bool `json:"enabled"`
		RequiredStatusChecks struct {
			EnforcementLevel string   `json:"enforcement_level"`
			Contexts         []string `json:"contexts"`
		} `json:"required_status_checks"`
	} `json:"protection"`
}

func (f *fixture) branch(t *testing.T, name string) (branchProtection, *github.Response, error) {
	t.Helper()
	var b branchProtection
	req, _ := f.gh.NewRequest("GET", "repos/acme/infra/branches/"+name, nil)
	resp, err := f.gh.Do(f.ctx, req, &b)
	return b, resp, err
}

// TestBranchShowsRequiredContexts: a branch's protection lists its
// required status checks; an unprotected branch reports enforcement off.
func TestBranchShowsRequiredContexts(t *testing.T) {
	f := newFixture(t)
	f.s.Commit(testRepo, "release/v1", map[string]string{"a": "b"}, "release")
	b, _, err := f.branch(t, "main")
	if err != nil {
		t.Fatal(err)
	}
	if b.Protected || b.Protection.Enabled || b.Protection.RequiredStatusChecks.EnforcementLevel != "off" || len(b.Protection.RequiredStatusChecks.Contexts) != 0 {
		t.Errorf("unprotected main = %+v", b)
	}
	f.s.Protect(testRepo, "main", BranchProtection{RequiredContexts: []string{"ci", "tugboat/prod"}})
	b, _, _ = f.branch(t, "main")
	if !b.Protected || b.Commit.SHA != f.s.HeadSHA(testRepo, "main") || strings.Join(b.Protection.RequiredStatusChecks.Contexts, ",") != "ci,tugboat/prod" {
		t.Errorf("protected main = %+v", b)
	}
	// Branch names with slashes, escaped as go-github escapes them.
	gb := must[*github.Branch](t)(f.gh.Repositories.GetBranch(f.ctx, "acme", "infra", "release/v1", 0))
	if gb.GetName() != "release/v1" || gb.GetCommit().GetSHA() != f.s.HeadSHA(testRepo, "release/v1") {
		t.Errorf("release/v1 = %s at %s", gb.GetName(), gb.GetCommit().GetSHA())
	}
	if _, resp, _ := f.branch(t, "nope"); resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown branch: %v", resp)
	}
}

// TestBranchRules: rulesets' required status checks and merge queue show
// for the branches they target, and their checks block merging like
// branch protection's.
func TestBranchRules(t *testing.T) {
	f := newFixture(t)
	// go-github v60's RepositoryRule cannot decode a merge_queue rule: read them raw.
	type rule struct {
		Type       string
		Parameters *json.RawMessage
		RulesetID  int64 `json:"ruleset_id"`
	}
	rules := func(branch string) []rule {
		t.Helper()
		var out []rule
		req, _ := f.gh.NewRequest("GET", "repos/acme/infra/rules/branches/"+branch, nil)
		if _, err := f.gh.Do(f.ctx, req, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := rules("main"); len(got) != 0 {
		t.Errorf("no rulesets: %d rules", len(got))
	}
	ciRules := f.s.AddRuleset(testRepo, Ruleset{Name: "ci", Branches: []string{"~DEFAULT_BRANCH"}, RequiredChecks: []string{"ci"}})
	f.s.AddRuleset(testRepo, Ruleset{Name: "releases", Branches: []string{"refs/heads/release/*"}, RequiredChecks: []string{"e2e"}, MergeQueue: &MergeQueue{Method: "SQUASH"}})
	got := rules("main")
	if len(got) != 1 || got[0].Type != "required_status_checks" || got[0].RulesetID != ciRules {
		t.Fatalf("main's rules = %+v", got)
	}
	var params github.RequiredStatusChecksRuleParameters
	json.Unmarshal(*got[0].Parameters, &params)
	if len(params.RequiredStatusChecks) != 1 || params.RequiredStatusChecks[0].Context != "ci" {
		t.Errorf("main's required checks = %+v", params)
	}
	rel := rules("release/v1")
	if len(rel) != 2 || rel[0].Type != "required_status_checks" || rel[1].Type != "merge_queue" || !strings.Contains(string(*rel[1].Parameters), `"merge_method":"SQUASH"`) {
		t.Errorf("release/v1's rules = %+v", rel)
	}

	n, head := f.openFeaturePR(t)
	f.s.Protect(testRepo, "main", BranchProtection{RequiredContexts: []string{"lint"}})
	_, resp, err := f.gh.PullRequests.Merge(f.ctx, "acme", "infra", n, "", nil)
	if resp == nil || resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(err.Error(), `"ci" is expected`) || !strings.Contains(err.Error(), `"lint" is expected`) {
		t.Errorf("merge without the ruleset's and protection's checks: %v", err)
	}
	f.s.SetStatus(testRepo, head, "lint", "success", "ci-bot")
	if st := f.s.PR(testRepo, n).MergeableState; st != "blocked" {
		t.Errorf("ruleset check missing: mergeable_state %s, want blocked", st)
	}
	f.s.SetStatus(testRepo, head, "ci", "success", "ci-bot")
	if st := f.s.PR(testRepo, n).MergeableState; st != "clean" {
		t.Errorf("every required check passed: mergeable_state %s, want clean", st)
	}
}

// TestGitCommitTree: the git commit endpoint gives the tree, which two
// commits with the same content share.
func TestGitCommitTree(t *testing.T) {
	f := newFixture(t)
	a := f.s.Commit(testRepo, "feature", map[string]string{"x": "1"}, "one")
	b := f.s.Commit(testRepo, "feature", map[string]string{"x": "2"}, "two")
	c := f.s.Commit(testRepo, "feature", map[string]string{"x": "1"}, "back to one")
	tree := func(sha string) string {
		return must[*github.Commit](t)(f.gh.Git.GetCommit(f.ctx, "acme", "infra", sha)).GetTree().GetSHA()
	}
	if tree(a) == "" || tree(a) != tree(c) || tree(a) == tree(b) {
		t.Errorf("trees: %s %s %s; want the first and last equal, the middle different", tree(a), tree(b), tree(c))
	}
	gc := must[*github.Commit](t)(f.gh.Git.GetCommit(f.ctx, "acme", "infra", c))
	if gc.GetMessage() != "back to one" || len(gc.Parents) != 1 || gc.Parents[0].GetSHA() != b {
		t.Errorf("commit = %q parents %v", gc.GetMessage(), gc.Parents)
	}
	if _, resp, _ := f.gh.Git.GetCommit(f.ctx, "acme", "infra", strings.Repeat("0", 40)); resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown commit: %v", resp)
	}
}

// TestCompletedCheckRunKeepsItsConclusion: GitHub refuses to change the
// status or conclusion of a completed run; output and annotations may
// still be added.
func TestCompletedCheckRunKeepsItsConclusion(t *testing.T) {
	f := newFixture(t)
	_, head := f.openFeaturePR(t)
	run := must[*github.CheckRun](t)(f.gh.Checks.CreateCheckRun(f.ctx, "acme", "infra", github.CreateCheckRunOptions{
		Name: "tugboat", HeadSHA: head, Conclusion: github.String("failure"),
		Output: &github.CheckRunOutput{Title: github.String("failed"), Summary: github.String("tarball: 503")},
	}))
	for name, opts := range map[string]github.UpdateCheckRunOptions{
		"back to in_progress": {Name: "tugboat", Status: github.String("in_progress")},
		"another conclusion":  {Name: "tugboat", Conclusion: github.String("success")},
		"completed, success":  {Name: "tugboat", Status: github.String("completed"), Conclusion: github.String("success")},
	} {
		_, resp, err := f.gh.Checks.UpdateCheckRun(f.ctx, "acme", "infra", run.GetID(), opts)
		if resp == nil || resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), "create a new check run") {
			t.Errorf("%s: %v", name, err)
		}
	}
	upd := must[*github.CheckRun](t)(f.gh.Checks.UpdateCheckRun(f.ctx, "acme", "infra", run.GetID(), github.UpdateCheckRunOptions{
		Name: "tugboat", Status: github.String("completed"), Conclusion: github.String("failure"),
		Output: &github.CheckRunOutput{Title: github.String("failed"), Summary: github.String("tarball: 503"), Annotations: annotations(3)},
	}))
	if upd.GetConclusion() != "failure" || upd.GetOutput().GetAnnotationsCount() != 3 {
		t.Errorf("same conclusion plus annotations: %s, %d annotations", upd.GetConclusion(), upd.GetOutput().GetAnnotationsCount())
	}
	if runs := f.s.CheckRuns(testRepo, head); len(runs) != 1 || runs[0].Conclusion != "failure" || runs[0].Status != "completed" {
		t.Errorf("runs = %+v", runs)
	}
	// An in-progress run still completes.
	live := must[*github.CheckRun](t)(f.gh.Checks.CreateCheckRun(f.ctx, "acme", "infra", github.CreateCheckRunOptions{
		Name: "tugboat/staging", HeadSHA: head, Status: github.String("in_progress")}))
	if done := must[*github.CheckRun](t)(f.gh.Checks.UpdateCheckRun(f.ctx, "acme", "infra", live.GetID(), github.UpdateCheckRunOptions{
		Name: "tugboat/staging", Conclusion: github.String("success")})); done.GetStatus() != "completed" {
		t.Errorf("in_progress run concluded: %s", done.GetStatus())
	}
}
