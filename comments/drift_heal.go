package comments

import (
	"fmt"
	"time"
)

// Notes a drift issue of an `apply: auto` environment shows about
// self-heal: plain text for DriftReport.Healing, Markdown for comments.

// HealWaiting is the note while a heal waits for its backoff: the last
// heal failed, or the drift came back (something in the cluster keeps
// changing it back), so heals are spaced out.
func HealWaiting(until time.Time) string {
	return fmt.Sprintf("tugboat healed this environment recently and it drifted again, or the heal failed: "+
		"the next heal waits until %s (the wait doubles with each heal, up to an hour). "+
		"If a controller in the cluster keeps changing these objects, add an ignore rule for its fields to .tugboat.yaml.",
		until.UTC().Format("15:04:05 UTC"))
}

// HealInProgress is the note while tugboat heals the drift shown.
func HealInProgress(ref string) string {
	return "tugboat is healing this environment (apply: auto): it re-applies " + ref + "; its result follows as a comment."
}

// HealNotDoneComment says why a drifted `apply: auto` environment was not
// healed (a pull request holds its lock, another write came first, the
// re-plan was refused).
func HealNotDoneComment(env, reason string) string {
	return fmt.Sprintf("⏸️ **%s was not healed**: %s\n", code(envLabel(env)), text(clip(oneLine(reason), 2000)))
}
