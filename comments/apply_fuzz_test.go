package comments

import (
	"errors"
	"fmt"
	"html"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tugboatops/tugboat/applier"
	"github.com/tugboatops/tugboat/planner"
)

// Markers placed in the applier's messages and logs where the planner
// scrubbed a Secret value ("***"), and a value that only the plan's diffs
// hold: the result must show the first as it is and never the second.
const (
	scrubbedMessage = "DB_PASSWORD=***"
	scrubbedLog     = "token: ***"
	diffOnlySecret  = "diff-only-s3cr3t-7f3a"
)

// FuzzApplyComment renders apply results whose names, messages and logs
// are arbitrary, with up to thousands of objects, and checks what every
// result must satisfy: within GitHub's limits, valid Markdown, no HTML or
// link injected, the scrubbed-Secret mark "***" shown literally (not read
// as emphasis or a rule), and nothing of the objects' data.
func FuzzApplyComment(f *testing.F) {
	f.Add("web", "Back-off restarting failed container", "panic: boom", "alice", uint16(3), uint8(2), uint8(0))
	f.Add("x|y`</details>", "***bold*** <script>alert(1)</script> @acme/sre", "```\n</details>", "x](http://evil)", uint16(400), uint8(30), uint8(1))
	f.Add("", "\r\n\x00", "", "", uint16(0), uint8(0), uint8(2))
	f.Fuzz(func(t *testing.T, name, msg, logLine, actor string, nObjects uint16, nNotReady, trigger uint8) {
		for _, s := range []string{name, msg, logLine, actor} {
			if strings.Contains(s, diffOnlySecret) {
				return // the input would put the secret where it may be shown
			}
		}
		r := fuzzReport(name, msg, logLine, actor, int(nObjects)%5000, int(nNotReady)%60, trigger)

		body := ApplyComment(r)
		h := checkMarkdown(t, "comment", body, MaxCommentChars).html
		if maskedLink(h) {
			t.Fatalf("a link shows something other than its target:\n%s", h)
		}
		if strings.Contains(body, diffOnlySecret) {
			t.Fatal("the comment shows object data from the plan's diffs")
		}
		if len(r.notReadyFirst()) > 0 {
			// The first not-ready object is always shown: its message and
			// log keep the scrubbed mark as it is.
			if !strings.Contains(visible(h), scrubbedMessage) {
				t.Fatalf("scrubbed mark %q not shown literally:\n%s", scrubbedMessage, visible(h))
			}
			if !strings.Contains(h, html.EscapeString(scrubbedLog)+"\n") {
				t.Fatalf("log mark %q not shown verbatim:\n%s", scrubbedLog, h)
			}
		}

		cr := AppliedCheckRun(r)
		checkMarkdown(t, "check-run summary", cr.Summary, MaxCheckRunText)
		checkMarkdown(t, "check-run text", cr.Text, MaxCheckRunText)
		if strings.Contains(cr.Summary+cr.Text, diffOnlySecret) {
			t.Fatal("the check run shows object data from the plan's diffs")
		}
		for what, s := range map[string]string{"title": cr.Title, "status": statusDesc(r), "deployment": DeploymentDescription(r)} {
			if strings.ContainsAny(s, "\r\n") || utf8.RuneCountInString(s) > maxCheckRunTitle ||
				(what != "title" && utf8.RuneCountInString(s) > MaxStatusDescription) || !utf8.ValidString(s) {
				t.Fatalf("%s %q is not one short line", what, s)
			}
		}
		refused := ApplyRefusedReply(actor, []Refusal{{Env: "staging", Reasons: []Reason{
			ReasonChangesRequested(actor, name), ReasonCheckFailed(name, msg), ReasonOther(msg)}}})
		if maskedLink(checkMarkdown(t, "reply", refused, MaxCommentChars).html) {
			t.Fatalf("a link in the reply shows something other than its target:\n%s", refused)
		}
	})
}

func statusDesc(r ApplyReport) string {
	_, d := ApplyStatus(r)
	return d
}

// notReadyFirst is the report's not-ready objects, failed ones first.
func (r ApplyReport) notReadyFirst() []applier.ObjectStatus { return classify(r).notReady() }

func fuzzReport(name, msg, logLine, actor string, nObjects, nNotReady int, trigger uint8) ApplyReport {
	triggers := []Trigger{TriggerComment, TriggerButton, TriggerMerge, TriggerClose, TriggerHeal}
	r := baseReport()
	r.Actor, r.Trigger, r.Notes = actor, triggers[int(trigger)%len(triggers)], []string{msg}
	plan := &planner.Plan{Env: "staging", Cluster: name, Digest: digestA}
	res := &applier.Result{Plan: plan, Wait: &applier.WaitResult{Duration: time.Minute}, PlanTime: time.Second}
	actions := []planner.Action{planner.ActionCreate, planner.ActionUpdate, planner.ActionDelete, "adopt"}
	for i := range nObjects {
		ref := planner.ObjectRef{Kind: "ConfigMap", Namespace: name, Name: fmt.Sprintf("%s-%d", name, i)}
		a := actions[i%len(actions)]
		plan.Changes = append(plan.Changes, planner.Change{Ref: ref, Action: a, FromPR: true,
			Diff: "+  password: " + diffOnlySecret + "\n"})
		switch {
		case a == planner.ActionDelete:
			res.Prunes = append(res.Prunes, applier.ObjectPrune{Ref: ref, Outcome: []applier.PruneOutcome{
				applier.Pruned, applier.PruneKept, applier.PruneFailed, applier.PruneGone}[i%4], Reason: msg})
		default:
			res.Writes = append(res.Writes, applier.ObjectWrite{Ref: ref, Action: a, Outcome: []applier.WriteOutcome{
				applier.WriteApplied, applier.WriteFailed, applier.WriteSkipped, applier.WriteUnknown, applier.WriteApplied}[i%5], Error: msg})
		}
		if i%7 == 0 {
			res.Takeovers = append(res.Takeovers, applier.Takeover{Ref: ref, Field: msg, Manager: name})
		}
	}
	for i := range nNotReady {
		st := applier.StatusFailed
		if i%2 == 1 {
			st = applier.StatusInProgress
		}
		c := applier.ContainerState{Name: name, State: "waiting", Reason: msg, Message: msg, Restarts: int32(i),
			LastTermination: msg, Logs: []string{scrubbedLog, logLine, logLine + logLine}, LogsError: msg}
		res.Wait.Objects = append(res.Wait.Objects, applier.ObjectStatus{
			Ref:     planner.ObjectRef{Kind: "Deployment", Namespace: name, Name: fmt.Sprintf("%s-%d", name, i)},
			Status:  st,
			Message: scrubbedMessage + " " + msg,
			Diagnosis: &applier.Diagnosis{
				Pods: []applier.PodState{{Name: name, Phase: msg, Message: msg,
					Containers: []applier.ContainerState{c, c, c}}},
				PodsOmitted: i,
				Events: []applier.Event{{Type: "Warning", Reason: msg, Object: name, Message: msg + " " + scrubbedMessage, Count: 2},
					{Type: name, Reason: name, Object: msg, Message: logLine, Count: 1}},
			},
		})
	}
	r.Result = res
	switch {
	case nNotReady > 0:
		r.Err = errors.New("not converged: " + msg)
	case trigger%3 == 1:
		r.Err = &applier.IncompleteError{Cause: errors.New(msg), Applied: []planner.ObjectRef{{Kind: "ConfigMap", Name: name}}}
	case trigger%3 == 2:
		r.Err = &applier.DeniedError{Denied: []applier.DeniedAccess{{Access: msg, Objects: []string{name, msg}, Reason: msg}}}
	}
	return r
}
