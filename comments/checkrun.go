package comments

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tugboatops/tugboat/planner"
)

// Check-run conclusions, as GitHub spells them.
const (
	ConclusionSuccess        = "success"
	ConclusionActionRequired = "action_required"
	ConclusionFailure        = "failure"
)

// Annotation levels, as GitHub spells them.
const (
	LevelFailure = "failure"
	LevelWarning = "warning"
)

// MaxCheckRunText is GitHub's limit on a check run's output.summary and
// output.text, each.
const MaxCheckRunText = 65535

// checkTextBudget leaves room in output.text for the closing pointer.
const checkTextBudget = MaxCheckRunText - 1024

// MaxAnnotations is how many annotations a check run gets. GitHub takes 50
// per request, so thousands (a plan taking over thousands of objects) would
// cost a hundred requests for marks nobody scrolls through; the summary says
// how many were left out. (gh, which sends them, drops any past the same
// number: GitHub's side of the same bound.)
const MaxAnnotations = 500

// Annotation marks a file and line of the pull request in a check run.
// The gh package sends them 50 per request.
type Annotation struct {
	Path      string // repository-relative
	StartLine int    // 1-based
	EndLine   int
	Level     string // LevelFailure or LevelWarning
	Title     string
	Message   string
}

// CheckRun is the output and conclusion of one environment's check run
// (tugboat/<env>).
type CheckRun struct {
	Title       string
	Summary     string // Markdown, ≤ MaxCheckRunText
	Text        string // Markdown, ≤ MaxCheckRunText
	Annotations []Annotation
	Conclusion  string
}

// CheckRunOutput renders an environment's plan for its check run. The
// conclusion is failure when the plan has problems (what blocks a merge when
// branch protection requires the check), action_required when changes wait
// for /apply in an on-comment environment, and success otherwise: no
// changes, or changes that are applied on merge. Summary has the counts and
// problems; Text has the diffs, cut with a pointer to commentURL when they do
// not fit.
func CheckRunOutput(plan *planner.Plan, mode ApplyMode, commentURL string) CheckRun {
	if plan == nil {
		return CheckRunError(errors.New("no plan was produced"))
	}
	commentURL = safeURL(commentURL)
	st := statsOf(plan)
	anns := annotations(plan)
	out := CheckRun{Annotations: anns[:min(len(anns), MaxAnnotations)]}
	switch {
	case st.problems > 0:
		out.Conclusion = ConclusionFailure
		out.Title = fmt.Sprintf("%s: cannot be applied", plural(st.problems, "problem"))
	case !plan.HasChanges():
		out.Conclusion = ConclusionSuccess
		out.Title = "No changes"
	case mode == ApplyOnComment:
		out.Conclusion = ConclusionActionRequired
		out.Title = countsText(st.counts) + ": waiting for /apply"
	default:
		out.Conclusion = ConclusionSuccess
		out.Title = countsText(st.counts) + ": applied on merge"
	}
	out.Summary = checkSummary(plan, mode, st, commentURL)
	if len(anns) > MaxAnnotations {
		// checkSummary leaves headroom for this note.
		out.Summary += fmt.Sprintf("\n> [!NOTE]\n> Only the first %d of %d annotations are marked on the files.\n", MaxAnnotations, len(anns))
	}
	out.Text = checkText(plan, commentURL)
	return out
}

// checkSummary is the counts, what to do next, and the problems.
func checkSummary(plan *planner.Plan, mode ApplyMode, st envStats, commentURL string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** on cluster %s · planned commit %s · plan digest %s\n\n", text(envLabel(plan.Env)),
		code(clip(plan.Cluster, 100)), code(ShortSHA(plan.Commit)), code(clip(plan.Digest, 100)))
	b.WriteString("| Create | Update | Delete | Adopt | Unchanged | Drift | Dangerous |\n|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(&b, "| %d | %d | %d | %d | %d | %d | %d |\n\n", st.counts.Create, st.counts.Update, st.counts.Delete,
		st.counts.Adopt, st.counts.Unchanged, st.drift, st.dangerous)
	switch {
	case st.problems > 0:
		b.WriteString("Fix the problems below and push; the environment is planned again.\n\n")
	case !plan.HasChanges():
		b.WriteString("Nothing to apply: the cluster already matches.\n\n")
	case mode == ApplyOnComment:
		cmd := Command{Verb: VerbApply, Envs: []string{envLabel(plan.Env)}, AllowDangerous: st.dangerous > 0}
		fmt.Fprintf(&b, "To apply, comment %s on the pull request once it is approved.\n\n", code(cmd.String()))
	default:
		b.WriteString("Applied when the pull request merges.\n\n")
	}
	if commentURL != "" {
		fmt.Fprintf(&b, "The full plan is in [the pull request comment](<%s>).\n\n", commentURL)
	}
	writeProblemList(&b, "**Problems:**", plan.Problems, "problem")
	writeProblemList(&b, "**Warnings** (warn policies and notes such as Helm hooks not applied; they do not block):", plan.Warnings, "warning")
	return b.String()
}

// writeProblemList writes a heading and the problems (or warnings) that
// fit in the summary; nothing when there are none.
func writeProblemList(b *strings.Builder, heading string, ps []planner.Problem, noun string) {
	if len(ps) == 0 {
		return
	}
	if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n\n") {
		b.WriteString("\n")
	}
	b.WriteString(heading + "\n\n")
	l := linker{}
	for i, p := range ps {
		item := renderer{link: l}.problem(p)
		if b.Len()+len(item) > checkTextBudget {
			fmt.Fprintf(b, "\n…and %s more: see the annotations and the plan comment.\n", plural(len(ps)-i, noun))
			break
		}
		b.WriteString(item)
	}
}

// checkText is every change's diff, as many as fit, then the objects
// adopted, one line each.
func checkText(plan *planner.Plan, commentURL string) string {
	var units []string
	for _, ch := range plan.Changes {
		if ch.Action != planner.ActionUnchanged && ch.Action != planner.ActionAdopt {
			units = append(units, renderObject(ch, linker{}, checkTextBudget))
		}
	}
	units = append(units, adoptUnits(plan.Changes, linker{})...)
	if len(units) == 0 {
		return "No changes to show."
	}
	var b strings.Builder
	for i, u := range units {
		if b.Len()+len(u) > checkTextBudget {
			fmt.Fprintf(&b, "> [!NOTE]\n> %s more not shown here: GitHub limits check-run text to %d characters.",
				plural(len(units)-i, "change"), MaxCheckRunText)
			if commentURL != "" {
				fmt.Fprintf(&b, " See [the plan comment](<%s>) for all of them.", commentURL)
			}
			b.WriteString("\n")
			break
		}
		b.WriteString(u)
	}
	return b.String()
}

// annotations marks every problem that has a file (failure) and every
// dangerous change that has a source (warning).
func annotations(plan *planner.Plan) []Annotation {
	var out []Annotation
	for _, p := range plan.Problems {
		if p.Source.File == "" {
			continue
		}
		title := "tugboat: problem"
		if p.Object != "" {
			title = clip(p.Object, 200)
		}
		out = append(out, annotation(p.Source, LevelFailure, title, p.Message))
	}
	for _, p := range plan.Warnings {
		if p.Source.File == "" {
			continue
		}
		title := "tugboat: warning"
		if p.Object != "" {
			title = clip(p.Object, 200)
		}
		out = append(out, annotation(p.Source, LevelWarning, title, p.Message))
	}
	for _, ch := range plan.Changes {
		if ch.Danger == "" || ch.Source.File == "" || ch.Action == planner.ActionUnchanged {
			continue
		}
		out = append(out, annotation(ch.Source, LevelWarning, "dangerous: "+clip(ch.Ref.String(), 200), ch.Danger))
	}
	return out
}

func annotation(loc planner.Location, level, title, msg string) Annotation {
	line := loc.Line
	if line < 1 {
		// GitHub requires a line; the file's first is the honest choice.
		line = 1
	}
	return Annotation{Path: loc.File, StartLine: line, EndLine: line, Level: level, Title: title,
		Message: clip(sanitizeBlock(msg), 4000)}
}

// CheckRunError renders the check run of an environment tugboat could not
// plan (cluster unreachable, render killed, GitHub error). It fails the
// check: an environment nobody could plan must not look fine.
func CheckRunError(err error) CheckRun {
	msg := "unknown error"
	if err != nil {
		msg = err.Error()
	}
	msg = clip(msg, 8000)
	return CheckRun{
		Title:      "tugboat could not plan this environment",
		Conclusion: ConclusionFailure,
		Summary: "tugboat failed before it had a plan, so nothing here can be applied yet:\n\n" +
			codeBlock("text", msg) + "\nComment `/plan` on the pull request or press **Re-plan** to try again.\n",
		Text: "No plan: see the summary.",
	}
}

// safeURL drops characters that could end an angle-bracketed link
// destination; URLs from GitHub never contain them.
func safeURL(u string) string {
	return strings.Map(func(r rune) rune {
		if r == '<' || r == '>' || r <= ' ' {
			return -1
		}
		return r
	}, u)
}
