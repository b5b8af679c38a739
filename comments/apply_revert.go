package comments

import (
	"fmt"

	"github.com/tugboatops/tugboat/planner"
)

// Revert is one environment brought back to the default branch after the
// pull request that applied it was closed without merging.
type Revert struct {
	Env string
	// Report is the apply of the default branch head (Trigger
	// TriggerClose); nil when the environment already matched it.
	Report *ApplyReport
	// Kept are objects the pull request created that stay in the cluster
	// because the environment has `prune: false`.
	Kept []planner.ObjectRef
	// Dangerous are deletes the revert did not make: they need an explicit
	// `/apply --allow-dangerous` on the closed pull request.
	Dangerous []planner.Change
	// Unlocked is set when the pull request's lock on the environment was
	// released.
	Unlocked bool
}

// RevertComment tells a pull request closed without merging what became of
// the environments it had applied: each brought back to the default branch
// (with the apply's result), what could not be reverted and why, and the
// locks released. At most MaxCommentChars long, cut between blocks.
func RevertComment(pr int, defaultBranch string, reverts []Revert) string {
	w := newBudget(MaxCommentChars)
	w.add(fmt.Sprintf("## ↩️ #%d closed without merging: environments brought back to %s\n\n", pr, code(clip(defaultBranch, 200))))
	w.add("Git is the source of truth: what this pull request applied is replaced by what the default branch renders.\n\n")
	if len(reverts) == 0 {
		w.add("This pull request had applied no environment: nothing to revert.\n")
		return w.String()
	}
	more := " — see the environment's check run"
	for _, rv := range reverts {
		env := envLabel(rv.Env)
		if rv.Report == nil {
			w.add(fmt.Sprintf("### ✅ %s: nothing to revert\n\nIt already runs what the default branch renders.\n\n", text(env)))
		} else {
			rep := classify(*rv.Report)
			w.add("### " + rep.title() + "\n\n")
			rep.body(w, commentListMax, more)
		}
		w.list("**Left in the cluster** (the environment has `prune: false`)", refItems(rv.Kept), commentListMax, more)
		var danger []string
		for _, c := range rv.Dangerous {
			danger = append(danger, withReason(code(clip(objectName(c.Ref), 300)), c.Danger))
		}
		w.list("**Not deleted** (dangerous)", danger, commentListMax, more)
		if len(danger) > 0 {
			cmd := Command{Verb: VerbApply, Envs: []string{env}, AllowDangerous: true}
			w.add(fmt.Sprintf("To delete them too, comment %s on this closed pull request.\n\n", code(cmd.String())))
		}
		if rv.Unlocked {
			w.add(fmt.Sprintf("Released this pull request's lock on %s.\n\n", text(env)))
		}
	}
	if w.cut {
		w.note("\n_This comment is cut to GitHub's size limit" + more + "._\n")
	}
	return w.String()
}
