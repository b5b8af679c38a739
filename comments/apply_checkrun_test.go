package comments

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tugboatops/tugboat/planner"
)

func checkRunGolden(cr CheckRun) string {
	return fmt.Sprintf("conclusion: %s\ntitle: %s\nannotations: %+v\n\n## summary\n\n%s\n## text\n\n%s",
		cr.Conclusion, cr.Title, cr.Annotations, cr.Summary, cr.Text)
}

func checkCheckRun(t *testing.T, name string, cr CheckRun) {
	t.Helper()
	checkMarkdown(t, name+" summary", cr.Summary, MaxCheckRunText)
	checkMarkdown(t, name+" text", cr.Text, MaxCheckRunText)
	if cr.Title == "" || len([]rune(cr.Title)) > maxCheckRunTitle || strings.ContainsAny(cr.Title, "\n\r") {
		t.Errorf("%s: title %q", name, cr.Title)
	}
}

func TestGoldenApplyCheckRuns(t *testing.T) {
	for name, cr := range map[string]CheckRun{
		"checkrun-applying":           ApplyingCheckRun("staging", appliedPlan(), 2, 5),
		"checkrun-applied-converged":  AppliedCheckRun(convergedReport()),
		"checkrun-applied-crashloop":  AppliedCheckRun(crashloopReport()),
		"checkrun-applied-problems":   AppliedCheckRun(refusedReport(problemsErr())),
		"checkrun-applied-interrupt":  InterruptedCheckRun("staging"),
		"checkrun-merge-requirements": WithMergeRequirements(CheckRunOutput(twoEnvPlan().Envs[1].Plan, ApplyOnMerge, commentURL), []Reason{ReasonApprovals(2, 1), ReasonCheckPending("ci/build")}),
	} {
		t.Run(name, func(t *testing.T) {
			checkCheckRun(t, name, cr)
			golden(t, name, []string{checkRunGolden(cr)})
		})
	}
}

func TestAppliedCheckRun(t *testing.T) {
	tests := []struct {
		name       string
		r          ApplyReport
		conclusion string
		title      string
		summary    []string
		text       []string
	}{
		{"converged", convergedReport(), ConclusionSuccess, "Applied +1 ~2 −1 ⊕1 adopt, converged in 14s",
			[]string{"Started by @\u200balice with `/apply` on #42", "Took 14s"},
			[]string{"**Created** (1):", "**Pruned** (1):", "**Taken over**"}},
		{"crashloop", crashloopReport(), ConclusionFailure,
			"Apply failed: 2 objects not ready: Deployment/web CrashLoopBackOff, Deployment/worker Unschedulable",
			[]string{"### Not ready (2)", "CrashLoopBackOff", "Last log lines of `web`:"},
			[]string{"**Created** (1):"}},
		{"incomplete", incompleteReport(), ConclusionFailure,
			"Deploy failed part-way (1 applied, 4 not): dial tcp 10.0.0.7:6443: connect: connection refused",
			[]string{"The deploy stopped part-way"}, []string{"**Not applied** (3):"}},
		{"plan changed", refusedReport(planChangedErr()), ConclusionFailure, "Not applied: the plan changed since it was shown",
			[]string{"Review the new plan and comment `/apply staging` again."}, []string{"No object was written."}},
		{"dangerous on close", func() ApplyReport {
			r := refusedReport(dangerousErr())
			r.Trigger, r.Actor = TriggerClose, ""
			return r
		}(), ConclusionFailure, "Not reverted: dangerous deletes need --allow-dangerous: Namespace/legacy",
			[]string{"Comment `/apply staging --allow-dangerous` on this closed pull request to go ahead."}, nil},
		{"error", errorReport(), ConclusionFailure, "Apply failed: apply staging: re-plan: render deploy/overlays/staging: kustomize: accumulating resources: evalsymlink failure on 'deploy/base/missing.yaml'",
			[]string{"tugboat failed before the apply was done"}, []string{"No object was written."}},
	}
	for _, tt := range tests {
		cr := AppliedCheckRun(tt.r)
		checkCheckRun(t, tt.name, cr)
		if cr.Conclusion != tt.conclusion || cr.Title != tt.title {
			t.Errorf("%s: %s %q, want %s %q", tt.name, cr.Conclusion, cr.Title, tt.conclusion, tt.title)
		}
		for _, w := range tt.summary {
			if !strings.Contains(cr.Summary, w) {
				t.Errorf("%s: summary lacks %q:\n%s", tt.name, w, cr.Summary)
			}
		}
		for _, w := range tt.text {
			if !strings.Contains(cr.Text, w) {
				t.Errorf("%s: text lacks %q:\n%s", tt.name, w, cr.Text)
			}
		}
	}

	// A plan's problems are annotated on their files again.
	cr := AppliedCheckRun(func() ApplyReport {
		r := refusedReport(problemsErr())
		r.Result.Plan = problemPlan().Envs[0].Plan
		return r
	}())
	if len(cr.Annotations) != 2 || cr.Annotations[0].Path != "deploy/base/web.yaml" || cr.Annotations[0].Level != LevelFailure {
		t.Errorf("annotations = %+v", cr.Annotations)
	}
}

// TestAppliedCheckRunListsEverything: the check run is where the comment
// points for the rest, so it lists every object that fits, far beyond the
// comment's 25.
func TestAppliedCheckRunListsEverything(t *testing.T) {
	cr := AppliedCheckRun(manyObjectsReport(400, 40))
	checkCheckRun(t, "many", cr)
	for _, want := range []string{"settings-0399-with-a-rather-long-name-to-fill-lines", "`ConfigMap apps/old-0399`"} {
		if !strings.Contains(cr.Text, want) {
			t.Errorf("check-run text lacks %q", want)
		}
	}
	if !strings.Contains(cr.Summary, "Deployment apps/web-039") {
		t.Error("check-run summary does not diagnose every not-ready object")
	}
	// More than fits: cut between items, and said.
	cr = AppliedCheckRun(manyObjectsReport(3000, 40))
	checkCheckRun(t, "too many", cr)
	if !strings.Contains(cr.Text, "- …and ") || !strings.Contains(cr.Text, "GitHub limits check-run output to 65535 characters") {
		t.Errorf("cut check-run text does not say so; it ends:\n%s", cr.Text[len(cr.Text)-400:])
	}
}

func TestApplyingCheckRun(t *testing.T) {
	cr := ApplyingCheckRun("staging", appliedPlan(), 2, 5)
	checkCheckRun(t, "applying", cr)
	if cr.Conclusion != "" || cr.Title != "Applying… 2 of 5 objects" {
		t.Errorf("applying run: %q %q", cr.Conclusion, cr.Title)
	}
	for _, want := range []string{"**staging** on cluster `staging-eu1` · planned commit `9e8d7c6` · plan digest `" + digestA + "`",
		"Applying the plan that was shown (+1 ~2 −1 ⊕1 adopt): **2 of 5** objects done."} {
		if !strings.Contains(cr.Summary, want) {
			t.Errorf("applying summary lacks %q:\n%s", want, cr.Summary)
		}
	}
	for _, want := range []string{"- + create `ConfigMap apps/web-flags`", "- − delete `ConfigMap apps/old-flags`", "- ⊕ adopt `ConfigMap apps/legacy-settings`"} {
		if !strings.Contains(cr.Text, want) {
			t.Errorf("applying text lacks %q:\n%s", want, cr.Text)
		}
	}
	if strings.Contains(cr.Text, "untouched") {
		t.Error("an unchanged object is listed as being applied")
	}
	if cr := ApplyingCheckRun("staging", nil, 0, 0); cr.Title != "Applying…" || cr.Conclusion != "" {
		t.Errorf("applying without a plan: %+v", cr)
	}
	if cr := ApplyingCheckRun("staging", appliedPlan(), 9, 5); cr.Title != "Applying… 5 of 5 objects" {
		t.Errorf("done beyond total: %q", cr.Title)
	}
	big := hugePlan(5000).Envs[1].Plan
	checkCheckRun(t, "applying many", ApplyingCheckRun("prod", big, 0, 5000))
}

func TestInterruptedCheckRun(t *testing.T) {
	cr := InterruptedCheckRun("staging")
	checkCheckRun(t, "interrupted", cr)
	if cr.Conclusion != ConclusionFailure || cr.Title != "Interrupted — /apply again" ||
		!strings.Contains(cr.Summary, "Comment `/apply staging` to re-plan and finish it.") {
		t.Errorf("interrupted run = %+v", cr)
	}
}

func TestWithMergeRequirements(t *testing.T) {
	prod := twoEnvPlan().Envs[1].Plan
	base := CheckRunOutput(prod, ApplyOnMerge, commentURL)
	cr := WithMergeRequirements(base, []Reason{ReasonApprovals(2, 1), ReasonChangesRequested("carol")})
	checkCheckRun(t, "requirements", cr)
	if cr.Conclusion != ConclusionActionRequired || cr.Title != "needs 2 approvals, has 1; changes requested by carol" {
		t.Errorf("unmet requirements: %s %q", cr.Conclusion, cr.Title)
	}
	if !strings.HasPrefix(cr.Summary, "**Not deployed on merge until met** (2):\n\n- needs 2 approvals, has 1\n- changes requested by @\u200bcarol\n") ||
		!strings.Contains(cr.Summary, base.Summary) {
		t.Errorf("summary:\n%s", cr.Summary)
	}
	met := WithMergeRequirements(base, nil)
	if met.Conclusion != ConclusionSuccess || !strings.HasPrefix(met.Summary, "Requirements met: deploys when the pull request merges.") {
		t.Errorf("met requirements: %+v", met)
	}
	// A failed plan or one with nothing to deploy is left alone.
	failed := CheckRunOutput(problemPlan().Envs[0].Plan, ApplyOnMerge, "")
	if got := WithMergeRequirements(failed, []Reason{ReasonDraft()}); got.Conclusion != ConclusionFailure || got.Title != failed.Title {
		t.Errorf("failed plan changed: %+v", got)
	}
	empty := CheckRunOutput(&planner.Plan{Env: "prod", Digest: digestB}, ApplyOnMerge, "")
	if got := WithMergeRequirements(empty, []Reason{ReasonDraft()}); got.Conclusion != ConclusionSuccess {
		t.Errorf("empty plan changed: %+v", got)
	}
}
