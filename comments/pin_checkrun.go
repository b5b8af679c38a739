package comments

import "fmt"

// WithPin tells an on-merge environment's plan check run that the
// environment is pinned, so that nobody merges believing the plan will
// deploy: "pinned at abc1234 by alice: merging will not deploy it". The
// conclusion stays what the plan and its requirements made it: a pin must
// not block merges (the revert that lifts it least of all), it only means
// they deploy nothing. On the revert pull request itself (pr ==
// p.RevertPR), the run says that merging unpins and deploys instead. A
// failed plan, or one with no changes, is left as it is: there is nothing
// a merge would have deployed.
func WithPin(cr CheckRun, p Pin, pr int) CheckRun {
	if cr.Conclusion != ConclusionSuccess && cr.Conclusion != ConclusionActionRequired || cr.Title == "No changes" {
		return cr
	}
	env := code(envLabel(p.Env))
	var note string
	if pr > 0 && pr == p.RevertPR {
		note = fmt.Sprintf("**Merging unpins %s:** it is %s (break-glass rollback), and merging this pull request lifts the pin and deploys it.\n\n",
			env, pinMarkdown(p))
	} else {
		cr.Title = plainLine(PinText(p)+": merging will not deploy it; "+cr.Title, maxCheckRunTitle)
		note = fmt.Sprintf("**Merging will not deploy %s:** %s.\n\n", env, ReasonPinned(p).Markdown())
	}
	w := newBudget(MaxCheckRunText)
	w.add(note)
	if !w.add(cr.Summary) {
		w.note("\n_The plan summary did not fit: see the plan comment._\n")
	}
	cr.Summary = w.String()
	return cr
}

// pinMarkdown is "pinned at `abc1234` by @alice".
func pinMarkdown(p Pin) string {
	return fmt.Sprintf("pinned at %s by %s", code(ShortSHA(p.Commit)), login(p.By))
}
