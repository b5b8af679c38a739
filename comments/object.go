package comments

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/tugboatops/tugboat/planner"
)

// linker turns a repository location into Markdown, as a link to the file
// at the planned commit when the repository URL is known.
type linker struct {
	repoURL string // "https://github.com/owner/name", or "" for no links
	sha     string
}

// location renders "file:line" (or just the file when the line is unknown).
func (l linker) location(loc planner.Location) string {
	if loc.File == "" {
		return ""
	}
	label := loc.File
	if loc.Line > 0 {
		label = fmt.Sprintf("%s:%d", loc.File, loc.Line)
	}
	label = clip(label, 300)
	if l.repoURL == "" || l.sha == "" {
		return code(label)
	}
	segs := strings.Split(loc.File, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	u := strings.TrimSuffix(l.repoURL, "/") + "/blob/" + url.PathEscape(l.sha) + "/" + strings.Join(segs, "/")
	if loc.Line > 0 {
		u += fmt.Sprintf("#L%d", loc.Line)
	}
	// An angle-bracketed destination may hold parentheses; PathEscape has
	// already turned '<', '>' and spaces into escapes.
	return "[" + code(label) + "](<" + u + ">)"
}

// actionSign is the one-character sign of an action, as in the summary.
func actionSign(a planner.Action) string {
	switch a {
	case planner.ActionCreate:
		return "+"
	case planner.ActionUpdate:
		return "~"
	case planner.ActionDelete:
		return "−"
	case planner.ActionAdopt:
		return "⊕"
	}
	return "="
}

// adoptUnits lists the objects a plan adopts, one line each and no diff:
// only tugboat's ApplySet label is added to them (they were applied by
// kubectl or another tool before), and two dozen one-label diffs would
// bury the real changes. The heading travels with the first line, so a
// split never leaves it alone at the end of a part.
func adoptUnits(changes []planner.Change, l linker) []string {
	var units []string
	for _, ch := range changes {
		if ch.Action != planner.ActionAdopt {
			continue
		}
		line := "- " + code(clip(objectName(ch.Ref), 600))
		if src := l.location(ch.Source); src != "" {
			line += " · " + src
		}
		line += "\n"
		if len(units) == 0 {
			line = "**⊕ adopt**: tugboat takes these objects over. Only its ApplySet membership label " +
				"is added; nothing else about them changes.\n\n" + line
		}
		units = append(units, line)
	}
	if len(units) > 0 {
		units[len(units)-1] += "\n"
	}
	return units
}

// truncationNote says how much of a diff is shown, so a cut is never silent.
func truncationNote(shown, total int, partial bool) string {
	what := fmt.Sprintf("only its first %d of %d lines are shown", shown, total)
	if partial {
		what = fmt.Sprintf("only the start of its first line (of %d) is shown", total)
	}
	return "> [!WARNING]\n> This diff is too large for GitHub: " + what + ". Run `bot plan` locally to see all of it.\n"
}

// renderObject renders one change as a self-contained Markdown block: a
// heading line, drift and danger notes, and the diff in a fence no line of
// the diff can close. When the block would exceed limit bytes the diff is
// cut at a line boundary and a note says so. It always ends with a blank
// line. limit must leave room for the heading and the note (a few KB).
func renderObject(ch planner.Change, l linker, limit int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s %s** %s", actionSign(ch.Action), ch.Action, code(clip(objectName(ch.Ref), 600)))
	if src := l.location(ch.Source); src != "" {
		b.WriteString(" · " + src)
	}
	if !ch.FromPR {
		b.WriteString(" · **drift**: not from this pull request — the cluster differs from the base branch, and applying reverts it")
	}
	b.WriteString("\n\n")
	if ch.Danger != "" {
		b.WriteString("> [!CAUTION]\n> **Dangerous:** " + text(clip(ch.Danger, 2000)) + "\n\n")
	}
	head := b.String()
	diff := sanitizeBlock(ch.Diff)
	if diff == "" {
		return head + "_No diff to show._\n\n"
	}
	full := head + codeBlock("diff", diff) + "\n"
	if len(full) <= limit {
		return full
	}
	lines := strings.SplitAfter(strings.TrimSuffix(diff, "\n"), "\n")
	cut := func(room int) string {
		shown, size := 0, 0
		for shown < len(lines) && size+len(lines[shown]) <= room {
			size += len(lines[shown])
			shown++
		}
		if shown > 0 {
			return head + codeBlock("diff", strings.Join(lines[:shown], "")) + "\n" +
				truncationNote(shown, len(lines), false) + "\n"
		}
		// A single line longer than a comment: show what fits of it.
		part, _ := truncateRunes(lines[0], room)
		return head + codeBlock("diff", part) + "\n" + truncationNote(0, len(lines), true) + "\n"
	}
	// The fence grows with the backtick runs shown, so find the most content
	// that fits by bisection rather than by arithmetic.
	best := cut(0)
	lo, hi := 1, limit
	for lo <= hi {
		mid := lo + (hi-lo)/2
		if out := cut(mid); len(out) <= limit {
			best, lo = out, mid+1
		} else {
			hi = mid - 1
		}
	}
	return best
}

// objectName is "Kind namespace/name", or "Kind name" when cluster-scoped.
func objectName(r planner.ObjectRef) string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}
