package comments

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tugboatops/tugboat/planner"
)

func TestApplyStatus(t *testing.T) {
	timedOut := crashloopReport()
	timedOut.Result.Wait.Objects = timedOut.Result.Wait.Objects[2:]
	timedOut.Result.Wait.TimedOut, timedOut.Result.Wait.Duration = true, 5*time.Minute
	noChanges := convergedReport()
	noChanges.Result.Plan = &planner.Plan{Digest: digestA}
	noChanges.Took = 2100 * time.Millisecond
	fromPhases := convergedReport()
	fromPhases.Took = 0 // the applier's phases add up to 14.2s
	tests := []struct {
		name, state, desc string
		r                 ApplyReport
	}{
		{"converged", StateSuccess, "converged in 14s: +1 ~2 −1 ⊕1 adopt", convergedReport()},
		{"converged, took from phases", StateSuccess, "converged in 14s: +1 ~2 −1 ⊕1 adopt", fromPhases},
		{"no changes", StateSuccess, "converged in 2.1s: no changes", noChanges},
		{"crashloop", StateFailure, "failed: 2 objects not ready: Deployment/web CrashLoopBackOff, Deployment/worker Unschedulable", crashloopReport()},
		{"timed out", StateFailure, "timed out after 5m0s: 1 object not ready: Deployment/worker Unschedulable", timedOut},
		{"incomplete", StateFailure, "failed part-way (1 applied, 4 not): dial tcp 10.0.0.7:6443: connect: connection refused", incompleteReport()},
		{"plan changed", StateFailure, "not applied: the plan changed since it was shown", refusedReport(planChangedErr())},
		{"problems", StateFailure, "not applied: the plan has 3 problems", refusedReport(problemsErr())},
		{"dangerous", StateFailure, "not applied: dangerous deletes need --allow-dangerous: Namespace/legacy", refusedReport(dangerousErr())},
		{"denied", StateFailure, "not applied: the bot may not patch deployments.apps in namespace apps; delete configmaps in namespace apps", refusedReport(deniedErr())},
		{"error", StateError, "tugboat failed: apply staging: re-plan: render deploy/overlays/staging: kustomize: accumulating resources: evalsymlink failure on 'deploy/b…", errorReport()},
	}
	for _, tt := range tests {
		state, desc := ApplyStatus(tt.r)
		if state != tt.state || desc != tt.desc {
			t.Errorf("%s: status %s %q, want %s %q", tt.name, state, desc, tt.state, tt.desc)
		}
		if n := utf8.RuneCountInString(desc); n > MaxStatusDescription {
			t.Errorf("%s: description has %d characters", tt.name, n)
		}
	}

	// However many objects fail, the description stays within GitHub's 140
	// characters and says it was cut.
	_, desc := ApplyStatus(manyObjectsReport(1, 200))
	if utf8.RuneCountInString(desc) != MaxStatusDescription || !strings.HasPrefix(desc, "failed: 200 objects not ready: Deployment/web-000 CrashLoopBackOff, ") ||
		!strings.HasSuffix(desc, "…") {
		t.Errorf("long description = %q (%d characters)", desc, utf8.RuneCountInString(desc))
	}
	// A message with line breaks stays on one line.
	r := errorReport()
	r.Err = errors.New("first\nsecond\r\n\tthird")
	if _, desc := ApplyStatus(r); desc != "tugboat failed: first second third" {
		t.Errorf("multi-line error = %q", desc)
	}
}

func TestApplyPendingStatus(t *testing.T) {
	for _, tt := range []struct {
		plan *planner.Plan
		want string
	}{
		{appliedPlan(), "applying 5 objects to staging (+1 ~2 −1 ⊕1 adopt)…"},
		{&planner.Plan{Changes: []planner.Change{{Ref: configMap("a", "b"), Action: planner.ActionCreate}}}, "applying 1 object to staging (+1 ~0 −0)…"},
		{nil, "applying to staging…"},
	} {
		state, desc := ApplyPendingStatus("staging", tt.plan)
		if state != StatePending || desc != tt.want {
			t.Errorf("pending status = %s %q, want pending %q", state, desc, tt.want)
		}
	}
	if state, desc := InterruptedStatus("staging"); state != StateError || desc != "interrupted: tugboat restarted mid-apply — /apply staging again" {
		t.Errorf("interrupted status = %s %q", state, desc)
	}
}

func TestNotDeployedStatus(t *testing.T) {
	for _, tt := range []struct {
		reasons []Reason
		want    string
	}{
		{[]Reason{ReasonAfterFailed("staging")}, "not deployed: staging failed"},
		{[]Reason{ReasonNoPullRequest()}, "not deployed: no pull request"},
		{[]Reason{ReasonApprovals(1, 0)}, "not deployed: needs 1 approval, has 0"},
		{[]Reason{ReasonApprovals(2, 1), ReasonCheckFailed("ci/test", "failure")}, "not deployed: needs 2 approvals, has 1; check ci/test failed"},
	} {
		state, desc := NotDeployedStatus(tt.reasons)
		if state != StateFailure || desc != tt.want {
			t.Errorf("not-deployed status = %s %q, want failure %q", state, desc, tt.want)
		}
	}
	var many []Reason
	for i := range 50 {
		many = append(many, ReasonCheckMissing(fmt.Sprintf("check-%d", i)))
	}
	if _, desc := NotDeployedStatus(many); utf8.RuneCountInString(desc) > MaxStatusDescription {
		t.Errorf("description too long: %q", desc)
	}
}

func TestDeploymentDescription(t *testing.T) {
	button := convergedReport()
	button.Trigger, button.Actor = TriggerButton, "bob"
	merge := incompleteReport()
	push := incompleteReport()
	push.PR = 0
	closed := convergedReport()
	closed.Trigger, closed.Actor = TriggerClose, ""
	heal := convergedReport()
	heal.Trigger, heal.Actor, heal.PR = TriggerHeal, "", 0
	starting := baseReport() // created before the applier returned
	promotion := incompleteReport()
	promotion.Promotion = true
	for _, tt := range []struct {
		r    ApplyReport
		want string
	}{
		{convergedReport(), "/apply by alice on #42 at 9e8d7c6: +1 ~2 −1 ⊕1 adopt"},
		{starting, "/apply by alice on #42 at 9e8d7c6"},
		{button, "Apply button by bob on #42 at 9e8d7c6: +1 ~2 −1 ⊕1 adopt"},
		{merge, "merge of #42 at 9e8d7c6: +1 ~2 −1 ⊕1 adopt"},
		{promotion, "merge of #42 (promotion) at 9e8d7c6: +1 ~2 −1 ⊕1 adopt"},
		{push, "push to the default branch at 9e8d7c6: +1 ~2 −1 ⊕1 adopt"},
		{closed, "revert after #42 closed at 9e8d7c6: +1 ~2 −1 ⊕1 adopt"},
		{heal, "drift heal at 9e8d7c6: +1 ~2 −1 ⊕1 adopt"},
	} {
		if got := DeploymentDescription(tt.r); got != tt.want {
			t.Errorf("deployment description = %q, want %q", got, tt.want)
		}
	}
	long := convergedReport()
	long.Actor = strings.Repeat("a", 300)
	if got := DeploymentDescription(long); utf8.RuneCountInString(got) != MaxStatusDescription {
		t.Errorf("long description has %d characters", utf8.RuneCountInString(got))
	}
}
