package comments

import (
	"fmt"
	"strings"

	"github.com/tugboatops/tugboat/planner"
)

// maxCheckRunTitle keeps a check-run title to one line on GitHub's page.
const maxCheckRunTitle = 200

// ApplyingCheckRun is the output of the tugboat/<env> run an apply creates
// (GitHub never lets a completed run go back to in progress), while it
// runs: done of total objects written so far. Its Conclusion is empty: the
// run is in_progress.
func ApplyingCheckRun(env string, plan *planner.Plan, done, total int) CheckRun {
	title := "Applying…"
	if total > 0 {
		title = fmt.Sprintf("Applying… %d of %d objects", min(done, total), total)
	}
	var b strings.Builder
	if plan == nil {
		fmt.Fprintf(&b, "Applying **%s**…\n", text(envLabel(env)))
		return CheckRun{Title: title, Summary: b.String(), Text: "The plan is being made again before anything is written."}
	}
	fmt.Fprintf(&b, "**%s** on cluster %s · planned commit %s · plan digest %s\n\n", text(envLabel(env)),
		code(clip(plan.Cluster, 100)), code(ShortSHA(planCommit(plan))), code(clip(plan.Digest, 100)))
	fmt.Fprintf(&b, "Applying the plan that was shown (%s)", countsText(plan.Counts()))
	if total > 0 {
		fmt.Fprintf(&b, ": **%d of %d** objects done", min(done, total), total)
	}
	b.WriteString(". This run completes when the environment has converged or failed, " +
		"and the pull request gets a comment with the result.\n")

	w := newBudget(MaxCheckRunText)
	var items []string
	for _, ch := range plan.Changes {
		if ch.Action != planner.ActionUnchanged {
			items = append(items, fmt.Sprintf("%s %s %s", actionSign(ch.Action), text(string(ch.Action)),
				code(clip(objectName(ch.Ref), 300))))
		}
	}
	if !w.list("**Changes being applied**", items, 0, "") {
		w.note(fmt.Sprintf("\n_GitHub limits check-run text to %d characters: the plan comment lists every change._\n", MaxCheckRunText))
	}
	out := w.String()
	if out == "" {
		out = "No changes to write: waiting for the environment to be ready."
	}
	return CheckRun{Title: title, Summary: b.String(), Text: out}
}

// planCommit is the commit a plan was made of.
func planCommit(p *planner.Plan) string { return p.Commit }

// AppliedCheckRun concludes the tugboat/<env> run of an apply: success
// when the environment converged, failure otherwise. Summary has who and
// what, why it failed and the not-ready objects' diagnosis; Text lists
// every object by outcome, as many as fit. Annotations repeat the plan's
// problems and dangerous changes on their files.
func AppliedCheckRun(r ApplyReport) CheckRun {
	// The run does not link to itself.
	r.CheckRunURL = ""
	rep := classify(r)
	out := CheckRun{Conclusion: ConclusionFailure, Title: plainLine(rep.checkTitle(), maxCheckRunTitle)}
	if rep.outcome == outcomeConverged {
		out.Conclusion = ConclusionSuccess
	}
	limitNote := fmt.Sprintf("\n_GitHub limits check-run output to %d characters: the rest is in the bot's log._\n", MaxCheckRunText)

	sum := newBudget(MaxCheckRunText)
	sum.add(rep.meta())
	rep.notes(sum)
	rep.explain(sum)
	rep.diagnoses(sum, 0, "")
	if sum.cut {
		sum.note(limitNote)
	}
	out.Summary = sum.String()

	txt := newBudget(MaxCheckRunText)
	rep.objects(txt, 0, "")
	if txt.cut {
		txt.note(limitNote)
	}
	out.Text = txt.String()
	if out.Text == "" {
		out.Text = "No object was written."
	}
	if p := rep.plan(); p != nil {
		out.Annotations = annotations(p)
	}
	return out
}

// checkTitle is the run's title: the outcome in one line.
func (r report) checkTitle() string {
	switch r.outcome {
	case outcomeConverged:
		counts := "no changes"
		if p := r.plan(); p != nil && p.HasChanges() {
			counts = countsText(p.Counts())
		}
		return fmt.Sprintf("%s %s, converged in %s", r.capDid(), counts, dur(r.took()))
	case outcomeRefused:
		return "Not " + r.did() + ": " + r.refusalLine()
	case outcomeError:
		return capitalize(r.noun()) + " failed: " + strings.TrimPrefix(r.headline(), "tugboat failed: ")
	}
	return capitalize(r.noun()) + " " + r.headline()
}

// capDid is "Applied", "Deployed", …
func (r report) capDid() string { return capitalize(r.did()) }

// InterruptedCheckRun concludes a tugboat/<env> run that a bot process
// left in progress when it stopped (killed, restarted): the apply's end is
// unknown, so the run fails and says how to finish.
func InterruptedCheckRun(env string) CheckRun {
	cmd := Command{Verb: VerbApply, Envs: []string{envLabel(env)}}
	return CheckRun{
		Conclusion: ConclusionFailure,
		Title:      "Interrupted — /apply again",
		Summary: fmt.Sprintf("tugboat stopped while applying **%s** (the process was restarted or killed), so this run "+
			"never finished and the environment may be partly applied. Comment %s to re-plan and finish it.\n",
			text(envLabel(env)), code(cmd.String())),
		Text: "No result: the apply was interrupted.",
	}
}

// WithMergeRequirements makes an on-merge environment's plan check run
// show its requirements before merge, so branch protection can require
// tugboat/<env>: a plan that would deploy but whose requirements are unmet
// becomes action_required, titled with what is missing ("needs 2
// approvals, has 1"). Runs that failed or have nothing to deploy are
// returned as they are.
func WithMergeRequirements(cr CheckRun, unmet []Reason) CheckRun {
	if cr.Conclusion != ConclusionSuccess || cr.Title == "No changes" {
		return cr
	}
	if len(unmet) == 0 {
		cr.Summary = "Requirements met: deploys when the pull request merges.\n\n" + cr.Summary
		return cr
	}
	var plain, items []string
	for _, r := range unmet {
		plain = append(plain, r.Text())
		items = append(items, r.Markdown())
	}
	w := newBudget(MaxCheckRunText)
	w.list("**Not deployed on merge until met**", items, 0, "")
	if !w.add(cr.Summary) {
		w.note("\n_The plan summary did not fit: see the plan comment._\n")
	}
	cr.Conclusion = ConclusionActionRequired
	cr.Title = plainLine(strings.Join(plain, "; "), maxCheckRunTitle)
	cr.Summary = w.String()
	return cr
}
