package comments

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/planner"
)

const commentURL = "https://github.com/acme/platform/pull/42#issuecomment-1001"

func TestCheckRunConclusions(t *testing.T) {
	changes := twoEnvPlan().Envs[0].Plan
	noChanges := &planner.Plan{Env: "staging", Cluster: "c", Digest: digestA,
		Changes: []planner.Change{{Ref: configMap("apps", "a"), Action: planner.ActionUnchanged, FromPR: true}}}
	problems := problemPlan().Envs[0].Plan
	tests := []struct {
		name       string
		plan       *planner.Plan
		mode       ApplyMode
		conclusion string
		title      string
		next       string
	}{
		{"changes on comment", changes, ApplyOnComment, ConclusionActionRequired, "+1 ~2 −0: waiting for /apply",
			"To apply, comment `/apply staging`"},
		{"changes on merge", changes, ApplyOnMerge, ConclusionSuccess, "+1 ~2 −0: applied on merge",
			"Applied when the pull request merges."},
		{"changes auto", changes, ApplyAuto, ConclusionSuccess, "+1 ~2 −0: applied on merge",
			"Applied when the pull request merges."},
		{"no changes on comment", noChanges, ApplyOnComment, ConclusionSuccess, "No changes",
			"Nothing to apply"},
		{"problems", problems, ApplyOnComment, ConclusionFailure, "3 problems: cannot be applied",
			"Fix the problems below"},
		{"problems on merge", problems, ApplyOnMerge, ConclusionFailure, "3 problems: cannot be applied",
			"Fix the problems below"},
	}
	for _, tt := range tests {
		cr := CheckRunOutput(tt.plan, tt.mode, commentURL)
		if cr.Conclusion != tt.conclusion || cr.Title != tt.title {
			t.Errorf("%s: conclusion %q title %q, want %q %q", tt.name, cr.Conclusion, cr.Title, tt.conclusion, tt.title)
		}
		if !strings.Contains(cr.Summary, tt.next) {
			t.Errorf("%s: summary lacks %q:\n%s", tt.name, tt.next, cr.Summary)
		}
		if !strings.Contains(cr.Summary, "("+"<"+commentURL+">)") {
			t.Errorf("%s: summary does not link the comment", tt.name)
		}
		renderMarkdown(t, cr.Summary)
		renderMarkdown(t, cr.Text)
	}
}

func TestCheckRunSummaryCountsAndProblems(t *testing.T) {
	cr := CheckRunOutput(problemPlan().Envs[0].Plan, ApplyOnComment, "")
	for _, want := range []string{
		"| 1 | 0 | 0 | 0 | 0 | 0 | 0 |",
		"`deploy/base/web.yaml:14` yaml: line 14: mapping values",
		"`Deployment/apps/web`: spec.template",
		"denied the request:",
	} {
		if !strings.Contains(cr.Summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, cr.Summary)
		}
	}
	if strings.Contains(cr.Summary, "pull request comment") {
		t.Error("summary links a comment it was not given")
	}
}

func TestCheckRunAnnotations(t *testing.T) {
	p := problemPlan().Envs[0].Plan
	p.Problems = append(p.Problems, planner.Problem{Source: planner.Location{File: "deploy/x.yaml"}, Message: "no line"})
	p.Changes = append(p.Changes, planner.Change{Ref: planner.ObjectRef{Version: "v1", Kind: "PersistentVolumeClaim",
		Namespace: "apps", Name: "data"}, Action: planner.ActionDelete, Diff: "-x\n", FromPR: true,
		Danger: "deletes PersistentVolumeClaim data and its volume", Source: planner.Location{File: "deploy/pvc.yaml", Line: 3}})
	got := CheckRunOutput(p, ApplyOnComment, "").Annotations
	want := []Annotation{
		{Path: "deploy/base/web.yaml", StartLine: 14, EndLine: 14, Level: LevelFailure, Title: "tugboat: problem",
			Message: "yaml: line 14: mapping values are not allowed in this context"},
		{Path: "deploy/base/web.yaml", StartLine: 30, EndLine: 30, Level: LevelFailure, Title: "Deployment/apps/web",
			Message: p.Problems[1].Message},
		{Path: "deploy/x.yaml", StartLine: 1, EndLine: 1, Level: LevelFailure, Title: "tugboat: problem", Message: "no line"},
		{Path: "deploy/pvc.yaml", StartLine: 3, EndLine: 3, Level: LevelWarning,
			Title: "dangerous: PersistentVolumeClaim/apps/data", Message: "deletes PersistentVolumeClaim data and its volume"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("annotations:\n got %+v\nwant %+v", got, want)
	}
}

func TestCheckRunTextCutWithPointer(t *testing.T) {
	p := hugePlan(600).Envs[1].Plan
	cr := CheckRunOutput(p, ApplyOnMerge, commentURL)
	if len(cr.Text) > MaxCheckRunText || len(cr.Summary) > MaxCheckRunText {
		t.Fatalf("text %d, summary %d bytes: over GitHub's limit", len(cr.Text), len(cr.Summary))
	}
	r := renderMarkdown(t, cr.Text)
	shown := len(r.diffs)
	if shown < 50 || shown >= 600 {
		t.Fatalf("%d diffs in the text", shown)
	}
	want := fmt.Sprintf("%d changes more not shown here", 600-shown)
	if !strings.Contains(cr.Text, want) || !strings.Contains(cr.Text, "[the plan comment](<"+commentURL+">)") {
		t.Errorf("cut text lacks %q and a pointer to the comment:\n%s", want, cr.Text[len(cr.Text)-400:])
	}
}

func TestCheckRunSummaryManyProblems(t *testing.T) {
	p := &planner.Plan{Env: "staging", Cluster: "c", Digest: digestA}
	for i := range 5000 {
		p.Problems = append(p.Problems, planner.Problem{Source: planner.Location{File: fmt.Sprintf("f%d.yaml", i), Line: i + 1},
			Message: strings.Repeat("bad value ", 20)})
	}
	cr := CheckRunOutput(p, ApplyOnComment, commentURL)
	if len(cr.Summary) > MaxCheckRunText {
		t.Fatalf("summary is %d bytes", len(cr.Summary))
	}
	if !strings.Contains(cr.Summary, "more: see the annotations and the plan comment.") {
		t.Error("summary does not say problems were left out")
	}
	if len(cr.Annotations) != MaxAnnotations || cr.Annotations[0].Path != "f0.yaml" {
		t.Errorf("%d annotations, want the first %d", len(cr.Annotations), MaxAnnotations)
	}
	if !strings.Contains(cr.Summary, "Only the first 500 of 5000 annotations are marked on the files.") {
		t.Errorf("summary does not say annotations were left out:\n%s", cr.Summary[len(cr.Summary)-300:])
	}
	renderMarkdown(t, cr.Summary)
}

func TestCheckRunError(t *testing.T) {
	err := fmt.Errorf("plan staging: %w", errors.New("dial tcp 10.0.0.7:6443: connect: connection refused ```"))
	cr := CheckRunError(err)
	if cr.Conclusion != ConclusionFailure || cr.Title != "tugboat could not plan this environment" {
		t.Errorf("conclusion %q title %q", cr.Conclusion, cr.Title)
	}
	if !strings.Contains(cr.Summary, "````text\n"+err.Error()+"\n````\n") {
		t.Errorf("summary does not show the error verbatim:\n%s", cr.Summary)
	}
	if cr.Text == "" {
		t.Error("empty text")
	}
	renderMarkdown(t, cr.Summary)
	if nilPlan := CheckRunOutput(nil, ApplyOnComment, ""); nilPlan.Conclusion != ConclusionFailure {
		t.Errorf("a missing plan concluded %q", nilPlan.Conclusion)
	}
}

// The apply modes are config's: ops converts with ApplyMode(env.Apply).
func TestApplyModesMatchConfig(t *testing.T) {
	for _, m := range []struct {
		c config.ApplyMode
		m ApplyMode
	}{{config.ApplyOnComment, ApplyOnComment}, {config.ApplyOnMerge, ApplyOnMerge}, {config.ApplyAuto, ApplyAuto}} {
		if ApplyMode(m.c) != m.m {
			t.Errorf("config %q != comments %q", m.c, m.m)
		}
	}
}
