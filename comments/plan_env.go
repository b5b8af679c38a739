package comments

import (
	"fmt"
	"strings"

	"github.com/tugboatops/tugboat/planner"
)

// renderer renders the pieces of one plan comment set.
type renderer struct {
	in   PlanComment
	link linker
}

// envStats are the numbers of one environment's summary row.
type envStats struct {
	counts    planner.Counts
	problems  int
	drift     int
	dangerous int
}

func statsOf(p *planner.Plan) envStats {
	s := envStats{counts: p.Counts(), problems: len(p.Problems)}
	for _, ch := range p.Changes {
		if ch.Action == planner.ActionUnchanged {
			continue
		}
		// Adopting changes who owns an object, not what it is: not drift.
		if !ch.FromPR && ch.Action != planner.ActionAdopt {
			s.drift++
		}
		if ch.Danger != "" {
			s.dangerous++
		}
	}
	return s
}

// countsText is "+1 ~2 −0": creates, updates, deletes; and "⊕3 adopt"
// after them when the plan adopts objects.
func countsText(c planner.Counts) string {
	s := fmt.Sprintf("+%d ~%d −%d", c.Create, c.Update, c.Delete)
	if c.Adopt > 0 {
		s += fmt.Sprintf(" ⊕%d adopt", c.Adopt)
	}
	return s
}

// plural returns "1 problem" or "2 problems".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// envLabel is a safe, bounded environment name for headings.
func envLabel(name string) string {
	return clip(name, 100)
}

// applyHow says in the table how the environment gets applied.
func applyHow(e EnvPlan) string {
	var how string
	switch e.Mode {
	case ApplyOnComment:
		how = "on " + code("/apply "+envLabel(e.Env))
	case ApplyAuto:
		how = "on merge, kept in sync"
	default:
		how = "on merge"
	}
	if e.LockedBy > 0 {
		how += fmt.Sprintf(" · 🔒 locked by #%d", e.LockedBy)
	}
	return how
}

// header is the top of the main comment: title, summary table and notes.
func (r renderer) header() string {
	in := r.in
	var b strings.Builder
	b.WriteString("## tugboat plan\n\n")
	fmt.Fprintf(&b, "Commit %s", code(ShortSHA(in.HeadSHA)))
	if in.MergeSHA != "" {
		fmt.Fprintf(&b, ", planned as GitHub's test merge %s with the base branch (what merging would deploy)", code(ShortSHA(in.MergeSHA)))
	}
	b.WriteString(".\n\n")
	if len(in.Envs) == 0 {
		b.WriteString("No environment is configured in `.tugboat.yaml`.\n\n")
	} else {
		b.WriteString("| Environment | Cluster | Changes | Problems | Drift | Danger | Applied |\n")
		b.WriteString("|---|---|---|---|---|---|---|\n")
		for _, e := range in.Envs {
			b.WriteString(r.row(e))
		}
		b.WriteString("\n")
	}
	if in.ConfigChanged {
		b.WriteString("> [!NOTE]\n> This pull request changes `.tugboat.yaml`. The new file was validated, " +
			"but it takes effect only after merge: these plans use the base branch's version.\n\n")
	}
	// Notes are few in practice; the cap keeps the main comment's header
	// well inside one part whatever a caller passes.
	const maxNotes = 20
	for i, n := range in.Notes {
		if i == maxNotes {
			fmt.Fprintf(&b, "_…and %d more notes._\n\n", len(in.Notes)-maxNotes)
			break
		}
		b.WriteString("> [!NOTE]\n> " + text(clip(n, 2000)) + "\n\n")
	}
	return b.String()
}

// row is one line of the summary table.
func (r renderer) row(e EnvPlan) string {
	name := "**" + text(envLabel(e.Env)) + "**"
	c := e.Cluster
	if c == "" && e.Plan != nil {
		c = e.Plan.Cluster
	}
	cluster := code(clip(c, 100))
	switch {
	case e.Failure != "" || (e.Plan == nil && !e.Unaffected):
		return fmt.Sprintf("| %s | %s | ⚠️ not planned: tugboat failed | | | | %s |\n", name, cell(cluster), cell(applyHow(e)))
	case e.Unaffected:
		return fmt.Sprintf("| %s | %s | not affected | | | | %s |\n", name, cell(cluster), cell(applyHow(e)))
	}
	s := statsOf(e.Plan)
	changes := countsText(s.counts)
	if !e.Plan.HasChanges() {
		changes = "no changes"
	}
	problems := "0"
	if s.problems > 0 {
		problems = fmt.Sprintf("❌ %d", s.problems)
	}
	danger := "0"
	if s.dangerous > 0 {
		danger = fmt.Sprintf("⚠️ %d", s.dangerous)
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %d | %s | %s |\n",
		name, cell(cluster), changes, problems, s.drift, danger, cell(applyHow(e)))
}

// sections renders the <details> block of every environment that has
// something to show.
func (r renderer) sections() []section {
	var out []section
	for _, e := range r.in.Envs {
		if e.Unaffected && e.Failure == "" {
			continue
		}
		out = append(out, r.section(e))
	}
	return out
}

func (r renderer) section(e EnvPlan) section {
	env := htmlText(envLabel(e.Env))
	if e.Failure != "" || e.Plan == nil {
		msg := e.Failure
		if msg == "" {
			msg = "no plan was produced"
		}
		s := section{
			open:   fmt.Sprintf("<details open><summary><b>%s</b>: ⚠️ not planned</summary>\n\n", env),
			reopen: fmt.Sprintf("<details open><summary><b>%s</b> (continued)</summary>\n\n", env),
		}
		u := "tugboat could not plan this environment, so nothing about it can be applied yet:\n\n" +
			codeBlock("text", clip(msg, 8000)) + "\nComment `/plan " + envLabel(e.Env) + "` to try again.\n\n"
		s.units = []string{u}
		return s
	}
	p := e.Plan
	st := statsOf(p)
	var sum []string
	if p.HasChanges() {
		sum = append(sum, countsText(st.counts))
	} else {
		sum = append(sum, "no changes")
	}
	if st.problems > 0 {
		sum = append(sum, "❌ "+plural(st.problems, "problem"))
	}
	if st.drift > 0 {
		sum = append(sum, plural(st.drift, "drifted object"))
	}
	if st.dangerous > 0 {
		sum = append(sum, "⚠️ "+plural(st.dangerous, "dangerous change"))
	}
	// Open the block when someone has to act on it: problems or danger.
	attr := ""
	if st.problems > 0 || st.dangerous > 0 {
		attr = " open"
	}
	s := section{
		open:   fmt.Sprintf("<details%s><summary><b>%s</b>: %s</summary>\n\n", attr, env, strings.Join(sum, " · ")),
		reopen: fmt.Sprintf("<details%s><summary><b>%s</b> (continued)</summary>\n\n", attr, env),
	}
	limit := maxUnit(s.open, s.reopen)
	s.units = append(s.units, r.intro(e, st))
	for i, pr := range p.Problems {
		u := r.problem(pr)
		if i == len(p.Problems)-1 {
			u += "\n"
		}
		s.units = append(s.units, u)
	}
	for i, w := range p.Warnings {
		u := r.problem(w)
		if i == 0 {
			u = "**Warnings** (warn policies and notes such as Helm hooks not applied; they do not block):\n\n" + u
		}
		if i == len(p.Warnings)-1 {
			u += "\n"
		}
		s.units = append(s.units, u)
	}
	for _, ch := range p.Changes {
		if ch.Action == planner.ActionUnchanged || ch.Action == planner.ActionAdopt {
			continue
		}
		s.units = append(s.units, renderObject(ch, r.link, limit))
	}
	s.units = append(s.units, adoptUnits(p.Changes, r.link)...)
	return s
}

// intro is the head of an environment's block: where, what, and how to apply.
func (r renderer) intro(e EnvPlan, st envStats) string {
	p := e.Plan
	env := envLabel(e.Env)
	var b strings.Builder
	fmt.Fprintf(&b, "Cluster %s · planned commit %s · plan digest %s", code(clip(p.Cluster, 100)),
		code(ShortSHA(p.Commit)), code(clip(p.Digest, 100)))
	if st.counts.Unchanged > 0 {
		fmt.Fprintf(&b, " · %s unchanged", plural(st.counts.Unchanged, "object"))
	}
	b.WriteString("\n\n")
	switch {
	case st.problems > 0:
		verb := "block"
		if st.problems == 1 {
			verb = "blocks"
		}
		fmt.Fprintf(&b, "**%s %s this environment**: fix and push, and it is planned again.\n\n",
			plural(st.problems, "problem"), verb)
	case !p.HasChanges():
		b.WriteString("Nothing to apply: the cluster already matches.\n\n")
	case e.Mode == ApplyOnComment:
		cmd := Command{Verb: VerbApply, Envs: []string{env}, AllowDangerous: st.dangerous > 0}
		fmt.Fprintf(&b, "**To apply**, comment %s once the pull request is approved.", code(cmd.String()))
		if st.dangerous > 0 {
			b.WriteString(" The flag acknowledges the dangerous changes below.")
		}
		b.WriteString("\n\n")
	case e.Mode == ApplyAuto:
		b.WriteString("Applied when this pull request merges, and kept in sync with the branch afterwards.\n\n")
	default:
		b.WriteString("Applied when this pull request merges.\n\n")
	}
	if st.problems > 0 {
		b.WriteString("**Problems:**\n\n")
	}
	return b.String()
}

// problem is one item of the problem list: where, which object, what.
func (r renderer) problem(p planner.Problem) string {
	var b strings.Builder
	b.WriteString("- ")
	if loc := r.link.location(p.Source); loc != "" {
		b.WriteString(loc + " ")
	}
	if p.Object != "" {
		b.WriteString(code(clip(p.Object, 600)) + ": ")
	}
	b.WriteString(text(clip(p.Message, 4000)) + "\n")
	return b.String()
}
