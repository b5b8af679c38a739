package comments

import (
	"fmt"
	"strings"
	"time"

	"github.com/tugboatops/tugboat/planner"
)

// A drift issue reports one environment whose cluster no longer matches
// the commit tugboat last applied there: its body is the masked per-object
// diff (a plan of the recorded commit), continued in comments when long,
// updated in place on every drift check, closed with a comment when the
// drift is gone. Secret values never reach it: the plan's diffs are masked
// by the planner.

// DriftMarker identifies a drift issue's body (Part 1) and its
// continuation comments (Part 2…): the environment it reports, as the first
// line of the text, an HTML comment readers never see. The bot finds its
// issue again by this marker (and the label), never by the title, which
// people may edit.
type DriftMarker struct {
	Env  string
	Part int
}

const driftMarkerPrefix = "<!-- tugboat:drift "

// String renders the marker line, e.g. "<!-- tugboat:drift env=prod part=1 -->".
func (m DriftMarker) String() string {
	return fmt.Sprintf("%senv=%s part=%d -->", driftMarkerPrefix, markerEnv(m.Env), m.Part)
}

// markerEnv keeps the characters of a DNS-1123 label, so nothing can end
// the HTML comment early.
func markerEnv(env string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r == '-' {
			return r
		}
		return -1
	}, env)
}

// ParseDriftMarker reads the marker from the first line of an issue body or
// comment. Only the first line counts: a marker quoted further down (in a
// diff) must not make text look like the bot's.
func ParseDriftMarker(body string) (DriftMarker, bool) {
	line, _, _ := strings.Cut(body, "\n")
	rest, ok := strings.CutPrefix(line, driftMarkerPrefix)
	if !ok {
		return DriftMarker{}, false
	}
	rest, ok = strings.CutSuffix(rest, " -->")
	if !ok {
		return DriftMarker{}, false
	}
	var m DriftMarker
	if n, err := fmt.Sscanf(rest, "env=%s part=%d", &m.Env, &m.Part); err != nil || n != 2 {
		return DriftMarker{}, false
	}
	if m.Env == "" || m.Env != markerEnv(m.Env) || m.Part < 1 || rest != fmt.Sprintf("env=%s part=%d", m.Env, m.Part) {
		return DriftMarker{}, false
	}
	return m, true
}

// DriftReport is what a drift issue shows.
type DriftReport struct {
	Repo string // "owner/name"
	// RepoURL ("https://github.com/owner/name") makes commits and sources
	// links; empty for plain text.
	RepoURL string
	Env     string
	Cluster string
	Mode    ApplyMode
	// Commit is the commit tugboat last applied (the record's), which the
	// cluster was compared with; Ref names where it came from ("main", or
	// "#12" for a pull request applied before merge).
	Commit string
	Ref    string
	// Plan is the plan of Commit against the cluster: its changes are the
	// drift.
	Plan *planner.Plan
	// Checked is when the check ran.
	Checked time.Time
	// Healing, when set, says what self-heal is doing about it (a heal
	// waiting for its backoff, a heal refused); plain text.
	Healing string
}

// DriftObjects counts the objects of a plan that differ from the cluster.
func DriftObjects(p *planner.Plan) int {
	if p == nil {
		return 0
	}
	n := 0
	for _, ch := range p.Changes {
		if ch.Action != planner.ActionUnchanged {
			n++
		}
	}
	return n
}

// DriftRef is "main@abc1234": where the recorded commit came from, and it.
func DriftRef(ref, commit string) string {
	if ref == "" {
		return ShortSHA(commit)
	}
	return ref + "@" + ShortSHA(commit)
}

// DriftIssueTitle is the issue's title: "Drift in prod: 3 objects differ
// from main@abc1234". Plain text (GitHub renders no Markdown in titles).
func DriftIssueTitle(r DriftReport) string {
	n := DriftObjects(r.Plan)
	return plainLine(fmt.Sprintf("Drift in %s: %s %s from %s", envLabel(r.Env), plural(n, "object"), differ(n), DriftRef(r.Ref, r.Commit)), 256)
}

func differ(n int) string {
	if n == 1 {
		return "differs"
	}
	return "differ"
}

// DriftIssue renders the issue's body (the first string) and its
// continuation comments (the rest, in order), split between objects like a
// plan comment, each part valid Markdown on its own and starting with its
// DriftMarker. At most MaxCommentParts parts; the last then says what was
// left out.
func DriftIssue(r DriftReport) []string {
	link := linker{repoURL: r.RepoURL, sha: r.Commit}
	env := htmlText(envLabel(r.Env))
	s := section{
		open:   fmt.Sprintf("<details open><summary><b>%s</b>: %s</summary>\n\n", env, plural(DriftObjects(r.Plan), "object")+" ("+countsText(r.Plan.Counts())+")"),
		reopen: fmt.Sprintf("<details open><summary><b>%s</b> (continued)</summary>\n\n", env),
	}
	limit := maxUnit(s.open, s.reopen)
	for _, ch := range r.Plan.Changes {
		if ch.Action == planner.ActionUnchanged {
			continue
		}
		// Every change of a drift plan is drift; the plan comment's
		// "not from this pull request" note would read wrong here.
		ch.FromPR = true
		s.units = append(s.units, renderObject(ch, link, limit))
	}
	bodies := pack(driftHeader(r, link), []section{s})
	left := 0
	if len(bodies) > MaxCommentParts {
		left = len(bodies) - MaxCommentParts
		bodies = bodies[:MaxCommentParts]
	}
	parts := make([]string, len(bodies))
	for i, body := range bodies {
		var b strings.Builder
		b.WriteString(DriftMarker{Env: r.Env, Part: i + 1}.String() + "\n")
		if i > 0 {
			fmt.Fprintf(&b, "### Drift in %s, part %d of %d\n\nContinued from the comment above.\n\n", code(envLabel(r.Env)), i+1, len(bodies))
		}
		b.WriteString(body)
		switch {
		case i < len(bodies)-1:
			fmt.Fprintf(&b, "_Continued in part %d of %d, %s._\n", i+2, len(bodies), map[bool]string{true: "the first comment below", false: "the next comment"}[i == 0])
		case left > 0:
			fmt.Fprintf(&b, "> [!WARNING]\n> This drift is too long for %d parts: %s more are not shown. "+
				"`bot plan` at the recorded commit shows all of it on your machine.\n", MaxCommentParts, plural(left, "part"))
		}
		parts[i] = b.String()
	}
	return parts
}

// driftHeader is the start of the issue body: what differs from what, and
// what to do about it.
func driftHeader(r DriftReport, link linker) string {
	var b strings.Builder
	n := DriftObjects(r.Plan)
	fmt.Fprintf(&b, "## Drift in %s: %s %s from %s\n\n", code(envLabel(r.Env)), plural(n, "object"), differ(n), code(DriftRef(clip(r.Ref, 100), r.Commit)))
	fmt.Fprintf(&b, "Cluster %s no longer matches what tugboat last applied there from %s: %s (%s). "+
		"The diffs below show what applying that commit again would change in the cluster (Secret values masked).\n\n",
		code(clip(r.Cluster, 100)), text(clip(r.Repo, 200)), commitLink(link, r.Ref, r.Commit), countsText(r.Plan.Counts()))
	switch r.Mode {
	case ApplyAuto:
		b.WriteString("This environment has `apply: auto`: tugboat re-applies the commit to heal the drift, and says so here.\n\n")
	default:
		b.WriteString("To resolve it, either undo the change in the cluster, or make it in Git with a pull request. " +
			"tugboat checks again on its next round, updates this issue, and closes it once the cluster matches.\n\n")
	}
	if r.Healing != "" {
		b.WriteString("> [!NOTE]\n> " + text(clip(oneLine(r.Healing), 1000)) + "\n\n")
	}
	if !r.Checked.IsZero() {
		fmt.Fprintf(&b, "_Last checked %s._\n\n", r.Checked.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	return b.String()
}

// commitLink is "main@abc1234", linked to the commit when the repository
// URL is known.
func commitLink(l linker, ref, commit string) string {
	label := code(DriftRef(clip(ref, 100), commit))
	if u := linkURL(l.repoURL); u != "" && commit != "" {
		return "[" + label + "](<" + u + "/commit/" + markerSHA(commit) + ">)"
	}
	return label
}

// DriftGoneComment closes a drift issue: the cluster matches the recorded
// commit again (healed says tugboat's heal did it).
func DriftGoneComment(env, ref, commit string, healed bool) string {
	how := "The cluster matches it again"
	if healed {
		how = "tugboat healed it (`apply: auto`)"
	}
	return fmt.Sprintf("✅ **No more drift in %s**: %s; the environment is in sync with %s. Closing this issue; it is reopened if the drift comes back.\n",
		code(envLabel(env)), how, code(DriftRef(clip(ref, 100), commit)))
}

// DriftBackComment is posted when a closed drift issue is reopened.
func DriftBackComment(r DriftReport) string {
	n := DriftObjects(r.Plan)
	return fmt.Sprintf("⚠️ **The drift is back** in %s: %s %s from %s. The issue body shows the objects as they differ now.\n",
		code(envLabel(r.Env)), plural(n, "object"), differ(n), code(DriftRef(clip(r.Ref, 100), r.Commit)))
}

// DriftUnknownComment notes on an open drift issue that the last check
// could not be made, and why (a secret-free reason: the cluster did not
// answer, the recorded commit cannot be read). Nothing is applied while
// the reason lasts.
func DriftUnknownComment(env, reason string) string {
	return fmt.Sprintf("❔ **Drift in %s could not be checked**: %s\n\nNothing is applied or healed until a check succeeds; this issue stays as it was.\n",
		code(envLabel(env)), text(clip(oneLine(reason), 2000)))
}

// DriftStatus is the commit status tugboat/drift/<env> on the recorded
// commit: success "in sync", failure "3 objects drifted".
func DriftStatus(objects int) (state, description string) {
	if objects == 0 {
		return StateSuccess, "in sync"
	}
	return StateFailure, plural(objects, "object") + " drifted"
}
