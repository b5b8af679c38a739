package githubtest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

func annotations(n int) []*github.CheckRunAnnotation {
	var out []*github.CheckRunAnnotation
	for i := 1; i <= n; i++ {
		out = append(out, &github.CheckRunAnnotation{
			Path: github.String("deploy/app.yaml"), StartLine: github.Int(i), EndLine: github.Int(i),
			AnnotationLevel: github.String("warning"), Message: github.String(fmt.Sprintf("problem %d", i)),
		})
	}
	return out
}

func TestCheckRunEndpoints(t *testing.T) {
	f := newFixture(t)
	_, head := f.openFeaturePR(t)

	run := must[*github.CheckRun](t)(f.gh.Checks.CreateCheckRun(f.ctx, "acme", "infra", github.CreateCheckRunOptions{
		Name: "tugboat/staging", HeadSHA: head, Status: github.String("in_progress"),
		Output: &github.CheckRunOutput{Title: github.String("Planning"), Summary: github.String("working"), Annotations: annotations(50)},
	}))
	if run.GetStatus() != "in_progress" || run.GetApp().GetID() != f.s.App().ID || len(run.PullRequests) != 1 {
		t.Errorf("created run: status %s app %d pulls %d", run.GetStatus(), run.GetApp().GetID(), len(run.PullRequests))
	}
	upd := must[*github.CheckRun](t)(f.gh.Checks.UpdateCheckRun(f.ctx, "acme", "infra", run.GetID(), github.UpdateCheckRunOptions{
		Name: "tugboat/staging", Conclusion: github.String("success"),
		Output:  &github.CheckRunOutput{Title: github.String("1 change"), Summary: github.String("## Plan"), Text: github.String("```diff\n+a\n```"), Annotations: annotations(10)},
		Actions: []*github.CheckRunAction{{Label: "Apply", Description: "Apply this plan to staging", Identifier: "apply"}},
	}))
	if upd.GetStatus() != "completed" || upd.GetConclusion() != "success" || upd.CompletedAt == nil {
		t.Errorf("a conclusion completes the run: %s/%s", upd.GetStatus(), upd.GetConclusion())
	}
	if upd.GetOutput().GetAnnotationsCount() != 60 {
		t.Errorf("annotations append across updates: count = %d, want 60", upd.GetOutput().GetAnnotationsCount())
	}
	anns := must[[]*github.CheckRunAnnotation](t)(f.gh.Checks.ListCheckRunAnnotations(f.ctx, "acme", "infra", run.GetID(), &github.ListOptions{PerPage: 100}))
	if len(anns) != 60 || anns[59].GetMessage() != "problem 10" {
		t.Errorf("annotations = %d", len(anns))
	}
	got := must[*github.CheckRun](t)(f.gh.Checks.GetCheckRun(f.ctx, "acme", "infra", run.GetID()))
	if got.GetOutput().GetTitle() != "1 change" {
		t.Errorf("get: title %q", got.GetOutput().GetTitle())
	}

	// A second run with the same name: filter=latest (the default) shows only the newer.
	must[*github.CheckRun](t)(f.gh.Checks.CreateCheckRun(f.ctx, "acme", "infra", github.CreateCheckRunOptions{Name: "tugboat/staging", HeadSHA: head}))
	must[*github.CheckRun](t)(f.gh.Checks.CreateCheckRun(f.ctx, "acme", "infra", github.CreateCheckRunOptions{Name: "tugboat/prod", HeadSHA: head}))
	res := must[*github.ListCheckRunsResults](t)(f.gh.Checks.ListCheckRunsForRef(f.ctx, "acme", "infra", head, nil))
	if res.GetTotal() != 2 {
		t.Errorf("latest runs = %d, want 2", res.GetTotal())
	}
	all := must[*github.ListCheckRunsResults](t)(f.gh.Checks.ListCheckRunsForRef(f.ctx, "acme", "infra", "feature", &github.ListCheckRunsOptions{Filter: github.String("all")}))
	if all.GetTotal() != 3 {
		t.Errorf("all runs for branch ref = %d, want 3", all.GetTotal())
	}
	if runs := f.s.CheckRuns(testRepo, head); len(runs) != 3 || runs[0].Text != "```diff\n+a\n```" || runs[0].Actions[0]["identifier"] != "apply" {
		t.Errorf("inspected runs = %+v", runs)
	}
}

func TestCheckRunLimits(t *testing.T) {
	f := newFixture(t)
	_, head := f.openFeaturePR(t)
	cases := map[string]github.CreateCheckRunOptions{
		"text is too long": {Name: "x", HeadSHA: head, Output: &github.CheckRunOutput{
			Title: github.String("t"), Summary: github.String("s"), Text: github.String(strings.Repeat("y", 65536))}},
		"summary is too long": {Name: "x", HeadSHA: head, Output: &github.CheckRunOutput{
			Title: github.String("t"), Summary: github.String(strings.Repeat("y", 65536))}},
		"Only 50 annotations": {Name: "x", HeadSHA: head, Output: &github.CheckRunOutput{
			Title: github.String("t"), Summary: github.String("s"), Annotations: annotations(51)}},
		"Only 3 actions": {Name: "x", HeadSHA: head, Actions: []*github.CheckRunAction{
			{Label: "a", Description: "a", Identifier: "a"}, {Label: "b", Description: "b", Identifier: "b"},
			{Label: "c", Description: "c", Identifier: "c"}, {Label: "d", Description: "d", Identifier: "d"}}},
		"label is too long": {Name: "x", HeadSHA: head, Actions: []*github.CheckRunAction{
			{Label: strings.Repeat("l", 21), Description: "d", Identifier: "i"}}},
		"description is too long": {Name: "x", HeadSHA: head, Actions: []*github.CheckRunAction{
			{Label: "l", Description: strings.Repeat("d", 41), Identifier: "i"}}},
	}
	for want, opts := range cases {
		_, resp, err := f.gh.Checks.CreateCheckRun(f.ctx, "acme", "infra", opts)
		if resp == nil || resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v", want, err)
		}
	}
	// Limits GitHub's description also states (maxLength, maxItems) are
	// contract failures too: the client broke the documented contract.
	failures := f.s.TakeContractFailures()
	if len(failures) < 3 {
		t.Errorf("summary, text and annotations over the description's limits: %d contract failures recorded, want at least 3", len(failures))
	}
	for _, cf := range failures {
		if cf.Kind != "request" || cf.Operation != "/repos/{owner}/{repo}/check-runs" {
			t.Errorf("unexpected contract failure %s", cf)
		}
	}
	if len(f.s.CheckRuns(testRepo, head)) != 0 {
		t.Errorf("a rejected check run was created")
	}
}

func TestStatusEndpoints(t *testing.T) {
	f := newFixture(t)
	_, head := f.openFeaturePR(t)
	for _, st := range []struct{ ctx, state string }{{"tugboat/staging/apply", "pending"}, {"tugboat/staging/apply", "success"}, {"ci", "failure"}} {
		must[*github.RepoStatus](t)(f.gh.Repositories.CreateStatus(f.ctx, "acme", "infra", head, &github.RepoStatus{
			State: github.String(st.state), Context: github.String(st.ctx), Description: github.String("applied"),
		}))
	}
	list := must[[]*github.RepoStatus](t)(f.gh.Repositories.ListStatuses(f.ctx, "acme", "infra", head, nil))
	if len(list) != 3 || list[0].GetState() != "failure" {
		t.Errorf("statuses, newest first = %d first %s", len(list), list[0].GetState())
	}
	comb := must[*github.CombinedStatus](t)(f.gh.Repositories.GetCombinedStatus(f.ctx, "acme", "infra", "feature", nil))
	if comb.GetState() != "failure" || comb.GetTotalCount() != 2 || comb.GetSHA() != head {
		t.Errorf("combined = %s over %d for %s", comb.GetState(), comb.GetTotalCount(), comb.GetSHA())
	}
	_, resp, err := f.gh.Repositories.CreateStatus(f.ctx, "acme", "infra", head, &github.RepoStatus{
		State: github.String("success"), Context: github.String("x"), Description: github.String(strings.Repeat("d", 141)),
	})
	if resp == nil || resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), "description is too long (maximum is 140 characters)") {
		t.Errorf("141-character description: %v", err)
	}
	if got := f.s.Statuses(testRepo, head); len(got) != 3 || got[1].State != "success" || got[1].Creator != "tugboat[bot]" {
		t.Errorf("inspected statuses = %+v", got)
	}
}

// TestOtherAppsCheckRuns: a CI system's check runs carry their own app, are
// listed beside the bot's, and a newer run of a name supersedes the older.
func TestOtherAppsCheckRuns(t *testing.T) {
	f := newFixture(t)
	_, head := f.openFeaturePR(t)
	f.s.AddCheckRun(testRepo, head, "build", "", "ci")
	must[*github.CheckRun](t)(f.gh.Checks.CreateCheckRun(f.ctx, "acme", "infra", github.CreateCheckRunOptions{
		Name: "tugboat/staging", HeadSHA: head, Conclusion: github.String("success")}))
	f.s.AddCheckRun(testRepo, head, "build", "failure", "ci")
	res := must[*github.ListCheckRunsResults](t)(f.gh.Checks.ListCheckRunsForRef(f.ctx, "acme", "infra", head, nil))
	apps := map[string]string{}
	for _, run := range res.CheckRuns {
		apps[run.GetName()] = fmt.Sprintf("%s/%d/%s", run.GetApp().GetSlug(), run.GetApp().GetID(), run.GetConclusion())
	}
	runs := f.s.CheckRuns(testRepo, head)
	ci := runs[0].AppID
	if len(apps) != 2 || apps["build"] != fmt.Sprintf("ci/%d/failure", ci) || apps["tugboat/staging"] != fmt.Sprintf("%s/%d/success", f.s.App().Slug, f.s.App().ID) || ci == f.s.App().ID || runs[2].AppID != ci {
		t.Errorf("latest runs by app = %v (ci app %d)", apps, ci)
	}
}
