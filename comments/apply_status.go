package comments

import (
	"fmt"
	"strings"

	"github.com/tugboatops/tugboat/planner"
)

// Commit statuses and deployment descriptions are plain text of at most
// MaxStatusDescription characters: GitHub renders no Markdown there, so
// nothing is escaped, only folded onto one line and cut with "…".

// ApplyStatus is the commit status tugboat/apply/<env> once an apply has
// ended: success when the environment converged ("converged in 14s: +2 ~3
// −1"); error when tugboat itself failed; failure otherwise ("failed: 2
// objects not ready: Deployment/web CrashLoopBackOff", "not applied: the
// plan changed since it was shown").
func ApplyStatus(r ApplyReport) (state, description string) {
	rep := classify(r)
	switch rep.outcome {
	case outcomeConverged:
		state = StateSuccess
	case outcomeError:
		state = StateError
	default:
		state = StateFailure
	}
	return state, plainLine(rep.headline(), MaxStatusDescription)
}

// ApplyPendingStatus is the commit status tugboat/apply/<env> while an
// apply runs: "applying 47 objects to staging (+2 ~3 −1)…".
func ApplyPendingStatus(env string, plan *planner.Plan) (state, description string) {
	if plan == nil {
		return StatePending, plainLine("applying to "+env+"…", MaxStatusDescription)
	}
	c := plan.Counts()
	n := len(plan.Changes) - c.Unchanged
	noun := "objects"
	if n == 1 {
		noun = "object"
	}
	return StatePending, plainLine(fmt.Sprintf("applying %d %s to %s (%s)…", n, noun, env, countsText(c)), MaxStatusDescription)
}

// InterruptedStatus concludes a tugboat/apply/<env> status left pending by
// a bot process that stopped mid-apply.
func InterruptedStatus(env string) (state, description string) {
	return StateError, plainLine("interrupted: tugboat restarted mid-apply — /apply "+env+" again", MaxStatusDescription)
}

// NotDeployedStatus is the status tugboat/apply/<env> on a pushed commit
// for an environment the push did not deploy: "not deployed: staging
// failed", "not deployed: no pull request", "not deployed: needs 1
// approval".
func NotDeployedStatus(reasons []Reason) (state, description string) {
	var parts []string
	for _, r := range reasons {
		parts = append(parts, r.Text())
	}
	return StateFailure, plainLine("not deployed: "+strings.Join(parts, "; "), MaxStatusDescription)
}

// DeploymentDescription describes a GitHub Deployment (and its statuses):
// what started it and what it applies, e.g. "/apply by alice on #42 at
// 9e8d7c6: +1 ~2 −0".
func DeploymentDescription(r ApplyReport) string {
	var by string
	if r.Actor != "" {
		by = " by " + r.Actor
	}
	var on string
	if r.PR > 0 {
		on = fmt.Sprintf(" on #%d", r.PR)
	}
	var what string
	switch r.Trigger {
	case TriggerButton:
		what = "Apply button" + by + on
	case TriggerMerge:
		what = "push to the default branch" + by
		if r.PR > 0 {
			what = fmt.Sprintf("merge of #%d", r.PR)
		}
		if r.Promotion {
			what += " (promotion)"
		}
	case TriggerClose:
		what = "revert to the default branch"
		if r.PR > 0 {
			what = fmt.Sprintf("revert after #%d closed", r.PR)
		}
	case TriggerHeal:
		what = "drift heal"
	case TriggerRollback:
		what = "break-glass rollback" + by
	default:
		what = "/apply" + by + on
	}
	if r.Commit != "" {
		what += " at " + ShortSHA(r.Commit)
	}
	if r.Result != nil && r.Result.Plan != nil {
		what += ": " + countsText(r.Result.Plan.Counts())
	}
	return plainLine(what, MaxStatusDescription)
}
