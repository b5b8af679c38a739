package comments

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tugboatops/tugboat/applier"
	"github.com/tugboatops/tugboat/planner"
)

// Trigger says what started an apply.
type Trigger string

// The triggers of an apply.
const (
	// TriggerComment is a /apply comment.
	TriggerComment Trigger = "comment"
	// TriggerButton is the Apply button of a tugboat/<env> check run.
	TriggerButton Trigger = "button"
	// TriggerMerge is a push to the default branch (a merge, or a direct push
	// when PR is 0).
	TriggerMerge Trigger = "merge"
	// TriggerClose brings an environment back to the default branch after
	// the pull request that applied it was closed without merging.
	TriggerClose Trigger = "close"
	// TriggerHeal reverts drift in an `apply: auto` environment.
	TriggerHeal Trigger = "heal"
	// TriggerRollback re-applies an environment's previous deploy at once
	// (break glass: `/rollback ENV --now`, `bot rollback`).
	TriggerRollback Trigger = "rollback"
)

// Commit status states, as GitHub spells them.
const (
	StatePending = "pending"
	StateSuccess = "success"
	StateFailure = "failure"
	StateError   = "error"
)

// MaxStatusDescription is GitHub's limit, in characters, on a commit
// status description; deployment descriptions are kept to the same.
const MaxStatusDescription = 140

// ApplyReport is what the apply flow hands to comments: one environment's
// apply, from whatever started it to how it ended.
type ApplyReport struct {
	Repo string // "owner/name"
	// RepoURL ("https://github.com/owner/name") makes commits and source
	// locations links; "" for none.
	RepoURL string
	PR      int // 0 for a push without a pull request
	Env     string
	Cluster string
	// Actor is who applied; "" for a merge deploy, a revert or a heal.
	Actor   string
	Trigger Trigger
	// Commit is the commit applied: the test merge commit before merge, the
	// pushed commit on merge.
	Commit string
	// Head is the pull request's head commit ("" or Commit when the commit
	// applied is the head itself).
	Head string
	// Result is the applier's result; nil when it stopped before re-planning.
	Result *applier.Result
	// Err is nil when the environment converged, else the applier's error
	// (*applier.PlanChangedError, *ProblemsError, *DangerousError,
	// *DeniedError, *IncompleteError, a not-converged error) or the flow's.
	Err error
	// Took is the time from the start of the apply to its end.
	Took time.Duration
	// Promotion marks a merge deploy of a promotion pull request.
	Promotion bool
	// CheckRunURL is the tugboat/<env> run of this apply ("" for none).
	CheckRunURL string
	// Notes are remarks of the flow in plain text, such as "staging was not
	// applied before merge, so the merge deploys it".
	Notes []string
}

// outcome is how an apply ended, as a person acts on it.
type outcome int

const (
	// outcomeConverged: applied and every object is ready.
	outcomeConverged outcome = iota
	// outcomeNotConverged: every write landed, but objects did not become
	// ready (failed or timed out).
	outcomeNotConverged
	// outcomeIncomplete: the apply stopped part-way.
	outcomeIncomplete
	// outcomeRefused: the applier refused before writing anything (plan
	// changed, problems, dangerous deletes, missing RBAC).
	outcomeRefused
	// outcomeError: tugboat failed for a reason of its own.
	outcomeError
)

// report is an ApplyReport with its error taken apart once.
type report struct {
	ApplyReport
	outcome     outcome
	planChanged *applier.PlanChangedError
	problems    *applier.ProblemsError
	dangerous   *applier.DangerousError
	denied      *applier.DeniedError
	incomplete  *applier.IncompleteError
}

func classify(r ApplyReport) report {
	rep := report{ApplyReport: r}
	switch {
	case r.Err == nil:
		rep.outcome = outcomeConverged
	// IncompleteError wraps its cause, which may be anything: it comes first.
	case errors.As(r.Err, &rep.incomplete):
		rep.outcome = outcomeIncomplete
	case errors.As(r.Err, &rep.planChanged), errors.As(r.Err, &rep.problems),
		errors.As(r.Err, &rep.dangerous), errors.As(r.Err, &rep.denied):
		rep.outcome = outcomeRefused
	case r.Result != nil && r.Result.Wait != nil && !r.Result.Wait.Converged:
		rep.outcome = outcomeNotConverged
	default:
		rep.outcome = outcomeError
	}
	return rep
}

// plan is the plan the applier made, or nil.
func (r report) plan() *planner.Plan {
	if r.Result == nil {
		return nil
	}
	return r.Result.Plan
}

// took is how long the apply took: as measured by the flow, else the sum of
// the applier's phases.
func (r report) took() time.Duration {
	if r.Took > 0 || r.Result == nil {
		return r.Took
	}
	res := r.Result
	return res.PlanTime + res.ApplyTime + res.PruneTime + res.WaitTime
}

// notReady lists the objects that were not Current when the wait ended,
// failed ones first.
func (r report) notReady() []applier.ObjectStatus {
	if r.Result == nil || r.Result.Wait == nil {
		return nil
	}
	return append(r.Result.Wait.Failed(), r.Result.Wait.Pending()...)
}

// did is the past tense of what the trigger does to an environment.
func (r report) did() string {
	switch r.Trigger {
	case TriggerMerge:
		return "deployed"
	case TriggerClose:
		return "reverted"
	case TriggerHeal:
		return "healed"
	case TriggerRollback:
		return "rolled back"
	}
	return "applied"
}

// noun is what the trigger does, as a noun.
func (r report) noun() string {
	switch r.Trigger {
	case TriggerMerge:
		return "deploy"
	case TriggerClose:
		return "revert"
	case TriggerHeal:
		return "heal"
	case TriggerRollback:
		return "rollback"
	}
	return "apply"
}

// applyCommand is the /apply that applies the environment again.
func (r report) applyCommand() string {
	return Command{Verb: VerbApply, Envs: []string{envLabel(r.Env)}}.String()
}

// headline is the outcome in one line of plain text, for commit statuses,
// check-run titles and deployment statuses.
func (r report) headline() string {
	switch r.outcome {
	case outcomeConverged:
		counts := "no changes"
		if p := r.plan(); p != nil && p.HasChanges() {
			counts = countsText(p.Counts())
		}
		return fmt.Sprintf("converged in %s: %s", dur(r.took()), counts)
	case outcomeNotConverged:
		return r.notConvergedLine()
	case outcomeIncomplete:
		e := r.incomplete
		return fmt.Sprintf("failed part-way (%d applied, %d not): %v", len(e.Applied), len(e.NotApplied)+len(e.Unknown), e.Cause)
	case outcomeRefused:
		return "not applied: " + r.refusalLine()
	}
	msg := "unknown error"
	if r.Err != nil {
		msg = r.Err.Error()
	}
	return "tugboat failed: " + msg
}

// notConvergedLine is "failed: 2 objects not ready: Deployment/web
// CrashLoopBackOff, …", or "timed out after 5m: …" when nothing failed.
func (r report) notConvergedLine() string {
	objs := r.notReady()
	lead := "failed"
	if w := r.Result.Wait; len(w.Failed()) == 0 {
		lead = "timed out after " + dur(w.Duration)
	}
	var parts []string
	for _, o := range objs {
		parts = append(parts, shortRef(o.Ref)+" "+objectReason(o))
	}
	noun := "objects"
	if len(objs) == 1 {
		noun = "object"
	}
	return fmt.Sprintf("%s: %d %s not ready: %s", lead, len(objs), noun, strings.Join(parts, ", "))
}

// refusalLine says in plain text why the applier wrote nothing.
func (r report) refusalLine() string {
	switch {
	case r.planChanged != nil:
		return "the plan changed since it was shown"
	case r.problems != nil:
		return "the plan has " + plural(len(r.problems.Problems), "problem")
	case r.dangerous != nil:
		return dangerousLine(r.dangerous.Changes)
	case r.denied != nil:
		var acc []string
		for _, d := range r.denied.Denied {
			acc = append(acc, d.Access)
		}
		return "the bot may not " + strings.Join(acc, "; ")
	}
	return "refused"
}

// objectReason is the shortest useful answer to "why is it not ready": a
// container's waiting or terminated reason (CrashLoopBackOff, OOMKilled),
// the pod's (Unschedulable), else the object's status.
func objectReason(o applier.ObjectStatus) string {
	if d := o.Diagnosis; d != nil {
		for _, p := range d.Pods {
			for _, c := range p.Containers {
				if !c.Ready && c.Reason != "" {
					return c.Reason
				}
			}
		}
		for _, p := range d.Pods {
			if p.Message != "" {
				reason, _, _ := strings.Cut(p.Message, ":")
				return reason
			}
		}
	}
	if o.Message != "" {
		return clip(o.Message, 200)
	}
	return string(o.Status)
}

// shortRef is "Kind/name": enough to recognise an object in a line of
// status text.
func shortRef(r planner.ObjectRef) string {
	return r.Kind + "/" + r.Name
}

// dur rounds a duration the way a person reads it: "850ms", "1.2s", "14s",
// "2m5s".
func dur(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// capitalize upper-cases the first letter of an ASCII word ("applied").
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// plainLine makes untrusted text one line of at most max characters for
// fields GitHub shows as plain text (status and deployment descriptions),
// marking a cut with "…".
func plainLine(s string, max int) string {
	s = strings.Join(strings.Fields(oneLine(s)), " ")
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	runes := []rune(s)
	return strings.TrimRight(string(runes[:max-1]), " ") + "…"
}

// linkURL is a URL the caller got from GitHub, made safe as an
// angle-bracketed link destination; anything but http(s) gives "" (no
// link), so a javascript: URL can never become one.
func linkURL(u string) string {
	u = safeURL(clip(u, 500))
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return ""
	}
	return u
}
