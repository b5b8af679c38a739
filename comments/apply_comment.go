package comments

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/tugboatops/tugboat/applier"
	"github.com/tugboatops/tugboat/planner"
)

// commentListMax is how many objects a result comment lists per outcome;
// the check run lists the rest, as many as fit.
const commentListMax = 25

// ApplyComment is the result comment of one environment's apply: what was
// created, updated, adopted and pruned (each list capped, pointing to the
// check run for the rest), how long it took to converge, and — when it did
// not — the objects that are not ready with their pods' reasons, restarts,
// last events and log lines, or why nothing was written. It shows no object
// data beyond names: Secret values never reach it (the planner and applier
// mask them, and it renders no diffs). It is at most MaxCommentChars long,
// cut between blocks, never inside one.
func ApplyComment(r ApplyReport) string {
	rep := classify(r)
	w := newBudget(MaxCommentChars)
	more := " — see the check run"
	if u := linkURL(r.CheckRunURL); u != "" {
		more = fmt.Sprintf(" — see [the check run](<%s>)", u)
	}
	w.add("## " + rep.title() + "\n\n")
	rep.body(w, commentListMax, more)
	if w.cut {
		w.note("\n_This comment is cut to GitHub's size limit" + more + "._\n")
	}
	return w.String()
}

// body is everything of a result comment below its title.
func (r report) body(w *budget, max int, more string) {
	w.add(r.meta())
	r.notes(w)
	r.explain(w)
	r.diagnoses(w, max, more)
	r.objects(w, max, more)
}

// maxNotes bounds the notes a report shows; callers have one or two.
const maxNotes = 10

// notes are the flow's remarks, as plain text.
func (r report) notes(w *budget) {
	for i, n := range r.Notes {
		if i == maxNotes {
			break
		}
		w.add("> [!NOTE]\n> " + text(clip(n, 2000)) + "\n\n")
	}
}

// title is the heading of a result comment: the outcome at a glance.
func (r report) title() string {
	env := text(envLabel(r.Env))
	switch r.outcome {
	case outcomeConverged:
		return fmt.Sprintf("✅ %s: %s, converged in %s", env, r.did(), dur(r.took()))
	case outcomeNotConverged:
		return fmt.Sprintf("❌ %s: %s, not converged", env, r.did())
	case outcomeIncomplete:
		return fmt.Sprintf("❌ %s: %s stopped part-way", env, r.noun())
	case outcomeRefused:
		return fmt.Sprintf("⛔ %s: not %s, nothing was written", env, r.did())
	}
	return fmt.Sprintf("⚠️ %s: %s failed", env, r.noun())
}

// meta is who started the apply and what it applied, where.
func (r report) meta() string {
	var b strings.Builder
	b.WriteString(r.startedBy())
	if r.Cluster != "" {
		b.WriteString(" · cluster " + code(clip(r.Cluster, 100)))
	}
	if r.Commit != "" {
		b.WriteString(" · commit " + r.commitLink(r.Commit))
		if r.Head != "" && r.Head != r.Commit {
			b.WriteString(" (test merge of head " + r.commitLink(r.Head) + ")")
		}
	}
	if p := r.plan(); p != nil && p.Digest != "" {
		b.WriteString(" · plan digest " + code(clip(p.Digest, 100)))
	}
	if u := linkURL(r.CheckRunURL); u != "" {
		b.WriteString(" · [check run](<" + u + ">)")
	}
	b.WriteString("\n\n")
	if res := r.Result; res != nil {
		fmt.Fprintf(&b, "Took %s", dur(r.took()))
		var phases []string
		for _, ph := range []struct {
			name string
			d    time.Duration
		}{{"plan", res.PlanTime}, {"apply", res.ApplyTime}, {"prune", res.PruneTime}, {"wait", res.WaitTime}} {
			if ph.d > 0 {
				phases = append(phases, ph.name+" "+dur(ph.d))
			}
		}
		if len(phases) > 0 {
			b.WriteString(": " + strings.Join(phases, " · "))
		}
		b.WriteString(".")
		if p := res.Plan; p != nil {
			c := p.Counts()
			fmt.Fprintf(&b, " Plan: %s, %d unchanged.", countsText(c), c.Unchanged)
		}
		b.WriteString("\n\n")
	} else if r.Took > 0 {
		fmt.Fprintf(&b, "Took %s.\n\n", dur(r.Took))
	}
	return b.String()
}

// startedBy says what started the apply, e.g. "Started by @alice with
// `/apply` on #42" (the login escaped so it pings nobody).
func (r report) startedBy() string {
	by := ""
	if r.Actor != "" {
		by = " by " + text("@"+clip(r.Actor, 100))
	}
	on := ""
	if r.PR > 0 {
		on = fmt.Sprintf(" on #%d", r.PR)
	}
	switch r.Trigger {
	case TriggerButton:
		return "Started" + by + " with the **Apply** button" + on
	case TriggerMerge:
		if r.PR > 0 {
			return fmt.Sprintf("Deploy of the merge of #%d%s", r.PR, by)
		}
		return "Deploy of a push to the default branch" + by
	case TriggerClose:
		if r.PR > 0 {
			return fmt.Sprintf("Revert to the default branch: #%d was closed without merging", r.PR)
		}
		return "Revert to the default branch"
	case TriggerHeal:
		return "Drift heal: back to the default branch"
	}
	return "Started" + by + " with `/apply`" + on
}

// commitLink is a commit's short SHA, linked to the commit when the
// repository URL is known.
func (r report) commitLink(sha string) string {
	c := code(ShortSHA(sha))
	base := linkURL(r.RepoURL)
	if base == "" {
		return c
	}
	return "[" + c + "](<" + strings.TrimSuffix(base, "/") + "/commit/" + url.PathEscape(sha) + ">)"
}

// nextStep says how to try again, for a person reading a failure.
func (r report) nextStep() string {
	switch r.Trigger {
	case TriggerComment, TriggerButton:
		return "Comment " + code(r.applyCommand()) + " to try again."
	case TriggerMerge:
		return "Merge a fix to deploy again."
	case TriggerHeal:
		return "The next drift check tries again."
	}
	return ""
}

// explain says, for anything but a clean convergence, what happened and
// what to do.
func (r report) explain(w *budget) {
	switch r.outcome {
	case outcomeConverged:
		if p := r.plan(); p != nil && !p.HasChanges() {
			w.add("Nothing needed changing: the cluster already matched.\n\n")
		}
	case outcomeNotConverged:
		objs := r.notReady()
		within := ""
		if len(r.Result.Wait.Failed()) == 0 {
			within = " within " + dur(r.Result.Wait.Duration) + " (the environment's `wait:`)"
		}
		w.add(fmt.Sprintf("Every change was written, but %s did not become ready%s. %s\n\n",
			plural(len(objs), "object"), within, r.nextStep()))
	case outcomeIncomplete:
		e := r.incomplete
		next := r.nextStep()
		if r.Trigger == TriggerComment || r.Trigger == TriggerButton {
			next = "Comment " + code(r.applyCommand()) + " to finish it: the apply re-plans and writes what is missing."
		}
		w.add(fmt.Sprintf("The %s stopped part-way: %s\n\n%s\n\n", r.noun(), text(clip(fmt.Sprint(e.Cause), 4000)), next))
	case outcomeRefused:
		r.explainRefusal(w)
	case outcomeError:
		msg := "unknown error"
		if r.Err != nil {
			msg = r.Err.Error()
		}
		w.add(fmt.Sprintf("tugboat failed before the %s was done:\n\n%s\n%s\n\n", r.noun(),
			codeBlock("text", clip(msg, 8000)), r.nextStep()))
	}
}

// explainRefusal says why the applier wrote nothing.
func (r report) explainRefusal(w *budget) {
	env := envLabel(r.Env)
	switch {
	case r.planChanged != nil:
		e := r.planChanged
		now := ""
		if e.Plan != nil {
			now = e.Plan.Digest
		}
		w.add(fmt.Sprintf("The plan changed since it was shown (shown %s, now %s), so nothing was written. "+
			"Review the new plan and comment %s again.\n\n", code(clip(e.Shown, 100)), code(clip(now, 100)),
			code(r.applyCommand())))
	case r.problems != nil:
		w.add(fmt.Sprintf("The plan has %s, so nothing was written. Fix them and push; the environment is planned again.\n\n",
			plural(len(r.problems.Problems), "problem")))
		l := renderer{link: linker{repoURL: linkURL(r.RepoURL), sha: r.Commit}}
		var items []string
		for _, p := range r.problems.Problems {
			items = append(items, strings.TrimSuffix(strings.TrimPrefix(l.problem(p), "- "), "\n"))
		}
		w.list("**Problems**", items, 0, "")
	case r.dangerous != nil:
		w.add(fmt.Sprintf("The plan deletes objects that need %s, so nothing was written.\n\n", code(FlagAllowDangerous)))
		var items []string
		for _, c := range r.dangerous.Changes {
			items = append(items, code(clip(objectName(c.Ref), 300))+": "+text(clip(c.Danger, 1000)))
		}
		w.list("**Dangerous**", items, 0, "")
		cmd := Command{Verb: VerbApply, Envs: []string{env}, AllowDangerous: true}
		where := ""
		if r.Trigger == TriggerClose {
			where = " on this closed pull request"
		}
		w.add(fmt.Sprintf("Comment %s%s to go ahead.\n\n", code(cmd.String()), where))
	case r.denied != nil:
		w.add(fmt.Sprintf("tugboat's Kubernetes account on cluster %s lacks permissions this plan needs, so nothing was written. "+
			"Grant them to the bot's service account, then %s again.\n\n", code(clip(r.Cluster, 100)), code(r.applyCommand())))
		var items []string
		for _, d := range r.denied.Denied {
			it := code(clip(d.Access, 300))
			if len(d.Objects) > 0 {
				objs := d.Objects
				extra := ""
				if len(objs) > 5 {
					objs, extra = objs[:5], fmt.Sprintf(" and %d more", len(d.Objects)-5)
				}
				var names []string
				for _, o := range objs {
					names = append(names, code(clip(o, 300)))
				}
				it += " — for " + strings.Join(names, ", ") + extra
			}
			if d.Reason != "" {
				it += ": " + text(clip(d.Reason, 1000))
			}
			items = append(items, it)
		}
		w.list("**Missing permissions**", items, 0, "")
	}
}

// objects lists what the apply did to each object, by outcome.
func (r report) objects(w *budget, max int, more string) {
	if r.incomplete != nil {
		e := r.incomplete
		w.list("**Applied**", refItems(e.Applied), max, more)
		w.list("**Not applied**", refItems(e.NotApplied), max, more)
		w.list("**Outcome unknown** (the answer was lost; the next apply finds out)", refItems(e.Unknown), max, more)
	}
	res := r.Result
	if res == nil {
		return
	}
	if r.incomplete == nil {
		written := map[planner.Action][]string{}
		var order []planner.Action
		var skipped, failed, notAttempted, unknown []string
		for _, wr := range res.Writes {
			name := code(clip(objectName(wr.Ref), 300))
			switch wr.Outcome {
			case applier.WriteApplied:
				if _, ok := written[wr.Action]; !ok {
					order = append(order, wr.Action)
				}
				written[wr.Action] = append(written[wr.Action], name)
			case applier.WriteSkipped:
				skipped = append(skipped, name)
			case applier.WriteFailed:
				failed = append(failed, withReason(name, wr.Error))
			case applier.WriteNotAttempted:
				notAttempted = append(notAttempted, name)
			default:
				unknown = append(unknown, name)
			}
		}
		for _, a := range actionOrder(order) {
			w.list("**"+pastTense(a)+"**", written[a], max, more)
		}
		r.prunes(w, max, more)
		w.list("**Left as is** (`if-not-present`, already in the cluster)", skipped, max, more)
		w.list("**Failed to write**", failed, max, more)
		w.list("**Not attempted**", notAttempted, max, more)
		w.list("**Outcome unknown** (the answer was lost; the next apply finds out)", unknown, max, more)
	} else {
		var failed []string
		for _, wr := range res.Writes {
			if wr.Error != "" {
				failed = append(failed, withReason(code(clip(objectName(wr.Ref), 300)), wr.Error))
			}
		}
		w.list("**Write errors**", failed, max, more)
	}
	var taken []string
	for _, t := range res.Takeovers {
		taken = append(taken, fmt.Sprintf("%s %s from %s", code(clip(objectName(t.Ref), 300)),
			code(clip(t.Field, 300)), code(clip(t.Manager, 200))))
	}
	w.list("**Taken over** from other field managers (changed outside Git; Git's values now apply)", taken, max, more)
}

// prunes lists the deletes by outcome.
func (r report) prunes(w *budget, max int, more string) {
	var pruned, gone, kept, failed, notAttempted []string
	for _, p := range r.Result.Prunes {
		name := code(clip(objectName(p.Ref), 300))
		switch p.Outcome {
		case applier.Pruned:
			pruned = append(pruned, name)
		case applier.PruneGone:
			gone = append(gone, name)
		case applier.PruneKept:
			kept = append(kept, withReason(name, p.Reason))
		case applier.PruneFailed:
			failed = append(failed, withReason(name, p.Reason))
		default:
			notAttempted = append(notAttempted, name)
		}
	}
	w.list("**Pruned**", pruned, max, more)
	w.list("**Already gone**", gone, max, more)
	w.list("**Kept**", kept, max, more)
	w.list("**Failed to prune**", failed, max, more)
	w.list("**Prune not attempted**", notAttempted, max, more)
}

func withReason(name, reason string) string {
	if reason == "" {
		return name
	}
	return name + ": " + text(clip(reason, 1000))
}

func refItems(refs []planner.ObjectRef) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = code(clip(objectName(r), 300))
	}
	return out
}

// actionOrder puts creates before updates and any other action (adopt)
// after them, in the order first seen.
func actionOrder(seen []planner.Action) []planner.Action {
	var out []planner.Action
	for _, a := range []planner.Action{planner.ActionCreate, planner.ActionUpdate} {
		for _, s := range seen {
			if s == a {
				out = append(out, a)
			}
		}
	}
	for _, s := range seen {
		if s != planner.ActionCreate && s != planner.ActionUpdate {
			out = append(out, s)
		}
	}
	return out
}

// pastTense labels a list of written objects: "Created", "Updated". Other
// actions (the planner's "adopt") are labelled by rule rather than listed
// here, so a new action reads sensibly without a change in this package.
func pastTense(a planner.Action) string {
	s := oneLine(string(a))
	if s == "" {
		return "Written"
	}
	if strings.HasSuffix(s, "e") {
		s += "d"
	} else {
		s += "ed"
	}
	rs := []rune(s)
	return text(strings.ToUpper(string(rs[0])) + string(rs[1:]))
}
