package comments

import (
	"fmt"
	"strings"
)

// maxReasonsPerEnv bounds one environment's entry in a reply: beyond a
// screenful, more reasons do not help anyone act.
const maxReasonsPerEnv = 20

// Refusal is why one environment was not applied (or unlocked, or
// deployed). Env is "" for reasons about the whole command, such as a
// closed pull request.
type Refusal struct {
	Env     string
	Reasons []Reason
}

// ApplyRefusedReply is the one reply to an /apply (or Apply button) that
// names every environment it refused and every reason, so a person fixes
// everything at once rather than one refusal per try. actor is who asked.
func ApplyRefusedReply(actor string, refusals []Refusal) string {
	return refusedReply(actor, "not applied — nothing was written", refusals)
}

// UnlockRefusedReply is the reply to an /unlock that released nothing for
// the reasons given (not allowed, unknown environment).
func UnlockRefusedReply(actor string, refusals []Refusal) string {
	return refusedReply(actor, "not unlocked", refusals)
}

func refusedReply(actor, what string, refusals []Refusal) string {
	w := newBudget(MaxCommentChars)
	if actor != "" {
		w.add(login(actor) + ", " + what + ":\n\n")
	} else {
		w.add(capitalize(what) + ":\n\n")
	}
	refusalList(w, refusals)
	return w.String()
}

// refusalList renders refusals as a list: an environment with one reason
// on one line, with several as a nested list.
func refusalList(w *budget, refusals []Refusal) {
	for i, f := range refusals {
		lines := refusalLines(f)
		for j, l := range lines {
			if !w.add(l) {
				rest := len(refusals) - i
				if j == 0 {
					w.note(fmt.Sprintf("\n_…and %d more: the rest did not fit in a comment._\n", rest))
				} else {
					w.note("\n_…the rest did not fit in a comment._\n")
				}
				return
			}
		}
	}
	w.add("\n")
}

func refusalLines(f Refusal) []string {
	reasons := f.Reasons
	extra := ""
	if len(reasons) > maxReasonsPerEnv {
		extra = fmt.Sprintf("  - …and %d more\n", len(reasons)-maxReasonsPerEnv)
		reasons = reasons[:maxReasonsPerEnv]
	}
	if f.Env == "" {
		var out []string
		for _, r := range reasons {
			out = append(out, "- "+r.Markdown()+"\n")
		}
		if extra != "" {
			out = append(out, strings.TrimPrefix(extra, "  "))
		}
		return out
	}
	env := "**" + text(envLabel(f.Env)) + "**"
	switch len(reasons) {
	case 0:
		return []string{"- " + env + "\n"}
	case 1:
		if extra == "" {
			return []string{"- " + env + ": " + reasons[0].Markdown() + "\n"}
		}
	}
	out := []string{"- " + env + "\n"}
	for _, r := range reasons {
		out = append(out, "  - "+r.Markdown()+"\n")
	}
	if extra != "" {
		out = append(out, extra)
	}
	return out
}

// UnlockResult is what /unlock did to one environment's lock.
type UnlockResult struct {
	Env string
	// Held is set when a lock existed and was released.
	Held bool
	// Holder is the pull request whose lock it was (when Held).
	Holder int
}

// UnlockReply answers an /unlock on pull request pr: which locks were
// released (and whose), and which environments were not locked.
func UnlockReply(pr int, results []UnlockResult) string {
	if len(results) == 0 {
		return "This pull request holds no locks: nothing to unlock.\n"
	}
	w := newBudget(MaxCommentChars)
	released := false
	for _, r := range results {
		env := "**" + text(envLabel(r.Env)) + "**"
		var line string
		switch {
		case !r.Held:
			line = fmt.Sprintf("- %s was not locked.\n", env)
		case r.Holder == pr || r.Holder == 0:
			line = fmt.Sprintf("- Unlocked %s (held by this pull request).\n", env)
		default:
			line = fmt.Sprintf("- Unlocked %s (held by #%d, which has to `/apply` again to take it back).\n", env, r.Holder)
		}
		released = released || r.Held
		if !w.add(line) {
			w.note("\n_…the rest did not fit in a comment._\n")
			return w.String()
		}
	}
	if released {
		w.add("\nAn unlocked environment can be applied by any pull request's `/apply`; the first takes the lock.\n")
	}
	return w.String()
}

// NotDeployedComment tells a merged pull request which environments the
// merge did not deploy at commit, and why ("needs 1 approval", "staging
// failed", "no pull request").
func NotDeployedComment(commit string, refusals []Refusal) string {
	w := newBudget(MaxCommentChars)
	w.add(fmt.Sprintf("## ⏸️ Not deployed at %s\n\n", code(ShortSHA(commit))))
	refusalList(w, refusals)
	w.add("Where requirements were not met, someone allowed to apply can comment `/apply <environment>` here " +
		"once they are: it deploys the default branch head.\n")
	return w.String()
}
