package comments

import (
	"fmt"
	"strings"

	"github.com/tugboatops/tugboat/planner"
)

// ApplyMode says when an environment is applied. It has the values of
// config.ApplyMode (convert with comments.ApplyMode(env.Apply)); comments
// keeps its own type so that it depends on planner types only.
type ApplyMode string

// The apply modes.
const (
	ApplyOnComment ApplyMode = "on-comment"
	ApplyOnMerge   ApplyMode = "on-merge"
	ApplyAuto      ApplyMode = "auto"
)

// MaxCommentChars is GitHub's limit on an issue or pull request comment
// body. Parts are measured in bytes, which are never fewer than characters.
const MaxCommentChars = 65536

// partBudget is what a part's body may use: the rest is headroom for the
// marker line, the continuation header and the footer.
const partBudget = MaxCommentChars - 1024

// MaxCommentParts caps a plan's comment set. Past ten comments nobody reads
// on in the pull request (and each costs a request against GitHub's
// content-creation limit): the last part points to the check runs and to
// `bot plan` instead.
const MaxCommentParts = 10

// EnvPlan is one environment's share of a plan comment.
type EnvPlan struct {
	Env     string
	Cluster string // defaults to Plan.Cluster
	Mode    ApplyMode
	// Plan is the environment's plan; nil when Unaffected or Failure is set.
	Plan *planner.Plan
	// Unaffected means the pull request changes nothing this environment
	// renders, so it was not planned.
	Unaffected bool
	// Failure is set when the bot itself could not plan the environment
	// (cluster unreachable, render killed). It is shown instead of a plan.
	Failure string
	// LockedBy is the pull request holding the environment's lock (0: none):
	// another PR's /apply is refused until it merges, closes or /unlock.
	LockedBy int
}

// PlanComment is everything a plan comment set shows.
type PlanComment struct {
	Repo string // "owner/name"
	// RepoURL ("https://github.com/owner/name") makes source locations links
	// to the planned commit; empty for plain file:line.
	RepoURL string
	PR      int
	// HeadSHA is the pull request's head commit; the set is keyed by it.
	HeadSHA string
	// MergeSHA is GitHub's test merge commit that was actually planned, or
	// "" when the head commit itself was planned.
	MergeSHA string
	Envs     []EnvPlan
	// ConfigChanged notes that the pull request edits .tugboat.yaml, which
	// takes effect only after merge.
	ConfigChanged bool
	// Notes are further plain-text remarks shown under the summary.
	Notes []string
}

// RenderPlanComments renders the comment set for a plan: the main comment
// (summary table, then a <details> block per environment) followed by as
// many numbered continuations as it takes to stay under GitHub's comment
// limit. Parts are split only between objects, never inside a fence; an
// environment cut by a split is closed and reopened, so every part is valid
// Markdown on its own. Each part starts with its Marker. At most
// MaxCommentParts parts are made; the last then says what was left out.
func RenderPlanComments(in PlanComment) []string {
	r := renderer{in: in, link: linker{repoURL: in.RepoURL, sha: plannedSHA(in)}}
	bodies := pack(r.header(), r.sections())
	left := 0
	if len(bodies) > MaxCommentParts {
		left = len(bodies) - MaxCommentParts
		bodies = bodies[:MaxCommentParts]
	}
	parts := make([]string, len(bodies))
	for i, body := range bodies {
		var b strings.Builder
		b.WriteString(Marker{SHA: in.HeadSHA, Part: i + 1}.String() + "\n")
		if i > 0 {
			fmt.Fprintf(&b, "### tugboat plan for %s, part %d of %d\n\nContinued from the comment above.\n\n",
				code(ShortSHA(in.HeadSHA)), i+1, len(bodies))
		}
		b.WriteString(body)
		switch {
		case i < len(bodies)-1:
			fmt.Fprintf(&b, "_Continued in part %d of %d, the next comment._\n", i+2, len(bodies))
		case left > 0:
			b.WriteString(cutNote(in, left))
		}
		parts[i] = b.String()
	}
	return parts
}

// cutNote ends the last part of a comment set cut at MaxCommentParts. It
// fits the headroom partBudget leaves (the URL is clipped).
func cutNote(in PlanComment, left int) string {
	where := "on the pull request's Checks tab"
	if in.RepoURL != "" && in.PR > 0 {
		where = fmt.Sprintf("on [the Checks tab](<%s/pull/%d/checks>)", clip(safeURL(in.RepoURL), 200), in.PR)
	}
	return fmt.Sprintf("> [!WARNING]\n> This plan is too long for %d comments: the rest, which would take %s more, is not posted here. "+
		"Each environment's check run %s shows its summary, problems and diffs; "+
		"`bot plan` shows the whole plan on your machine.\n",
		MaxCommentParts, plural(left, "comment"), where)
}

func plannedSHA(in PlanComment) string {
	if in.MergeSHA != "" {
		return in.MergeSHA
	}
	return in.HeadSHA
}

// section is one environment's <details> block, as units that may be split
// between parts.
type section struct {
	open   string   // the <details> line and summary, then a blank line
	reopen string   // the same, for a part continuing the block
	units  []string // self-contained Markdown blocks
}

// sectionClose ends a <details> block. It is preceded by a blank line, so
// it never reads as a continuation of a list item or paragraph, and is
// counted as "\n" + sectionClose below.
const sectionClose = "\n</details>\n\n"

// closeSection ends the open <details> block, on a line of its own after a
// blank line.
func closeSection(b *strings.Builder) {
	if strings.HasSuffix(b.String(), "\n\n") {
		b.WriteString(sectionClose[1:])
		return
	}
	b.WriteString(sectionClose)
}

// maxUnit is the largest unit a section may hold so that it fits in a part
// by itself.
func maxUnit(open, reopen string) int {
	return partBudget - max(len(open), len(reopen)) - len(sectionClose)
}

// pack lays the header and sections out over as few part bodies as fit
// partBudget. Every unit is at most maxUnit, so a fresh part always has room
// for the next one.
func pack(header string, sections []section) []string {
	var parts []string
	var cur strings.Builder
	cur.WriteString(header)
	flush := func() {
		parts = append(parts, cur.String())
		cur.Reset()
	}
	for _, s := range sections {
		first := 0
		if len(s.units) > 0 {
			first = len(s.units[0])
		}
		if cur.Len() > 0 && cur.Len()+len(s.open)+first+len(sectionClose) > partBudget {
			flush()
		}
		cur.WriteString(s.open)
		for _, u := range s.units {
			if cur.Len()+len(u)+len(sectionClose) > partBudget {
				closeSection(&cur)
				flush()
				cur.WriteString(s.reopen)
			}
			cur.WriteString(u)
		}
		closeSection(&cur)
	}
	if cur.Len() > 0 || len(parts) == 0 {
		flush()
	}
	return parts
}
