package comments

import (
	"fmt"
	"strings"

	"github.com/tugboatops/tugboat/planner"
)

// RenderLocalPlans renders plans as the plain, readable Markdown `bot plan`
// and `bot apply` print to a terminal: per environment a summary, the
// problems, and each change with its diff. Unlike a PR comment it is read
// by the person who ran the command, on their own repository, so names and
// messages are shown as they are (no escaping, no links, no size budget);
// only the diff fences are chosen so a diff cannot end its block early.
func RenderLocalPlans(plans []*planner.Plan) string {
	var b strings.Builder
	for i, p := range plans {
		if i > 0 {
			b.WriteString("\n")
		}
		c := p.Counts()
		fmt.Fprintf(&b, "## %s (cluster %s)\n\n", p.Env, p.Cluster)
		fmt.Fprintf(&b, "Plan: %d to create, %d to update, %d to delete, %d unchanged.\n", c.Create, c.Update, c.Delete, c.Unchanged)
		if p.Commit != "" {
			fmt.Fprintf(&b, "Commit: `%s`\n", p.Commit)
		}
		fmt.Fprintf(&b, "Digest: `%s`\n", p.Digest)
		localProblems(&b, "Problems", p.Problems)
		localProblems(&b, "Warnings", p.Warnings)
		if drift := statsOf(p).drift; drift > 0 {
			noun := "changes are"
			if drift == 1 {
				noun = "change is"
			}
			fmt.Fprintf(&b, "\n%d %s not made by this pull request: the cluster drifted from the base branch, and applying reverts that drift.\n", drift, noun)
		}
		for _, ch := range p.Changes {
			if ch.Action == planner.ActionUnchanged {
				continue
			}
			origin := "from this PR"
			if !ch.FromPR {
				origin = "drift"
			}
			fmt.Fprintf(&b, "\n### %s %s (%s)\n\n", ch.Action, ch.Ref, origin)
			if loc := localLocation(ch.Source); loc != "" {
				fmt.Fprintf(&b, "Source: `%s`\n\n", loc)
			}
			if ch.Danger != "" {
				fmt.Fprintf(&b, "**Danger:** %s\n\n", ch.Danger)
			}
			if ch.Diff != "" {
				b.WriteString(codeBlock("diff", ch.Diff))
			}
		}
	}
	return b.String()
}

// localLocation is file:line, or the file when the line is unknown.
func localLocation(l planner.Location) string {
	if l.File == "" {
		return ""
	}
	if l.Line > 0 {
		return fmt.Sprintf("%s:%d", l.File, l.Line)
	}
	return l.File
}

// localProblems lists problems (or warnings) under a heading with their
// count; nothing when there are none.
func localProblems(b *strings.Builder, heading string, ps []planner.Problem) {
	if len(ps) == 0 {
		return
	}
	fmt.Fprintf(b, "\n### %s (%d)\n\n", heading, len(ps))
	for _, pr := range ps {
		b.WriteString("- ")
		if loc := localLocation(pr.Source); loc != "" {
			fmt.Fprintf(b, "`%s` ", loc)
		}
		if pr.Object != "" {
			fmt.Fprintf(b, "`%s`: ", pr.Object)
		}
		b.WriteString(pr.Message)
		b.WriteString("\n")
	}
}
