package comments

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/tugboatops/tugboat/planner"
)

// allowedTags are the HTML elements a plan comment may contain once
// rendered: what Markdown produces plus the <details>/<summary>/<b> the
// renderer writes itself. Anything else came from untrusted text.
var allowedTags = map[string]bool{
	"details": true, "summary": true, "b": true, "h2": true, "h3": true, "p": true, "a": true,
	"code": true, "pre": true, "strong": true, "em": true, "ul": true, "li": true, "blockquote": true,
	"table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true, "br": true,
}

var htmlTag = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9-]*)`)

// checkParts asserts what every comment set must satisfy: each part within
// GitHub's limit, starting with its marker, valid Markdown on its own, only
// the renderer's own HTML, and every change's diff inside a ```diff block —
// verbatim, or cut at the start with a note saying so.
func checkParts(t testing.TB, in PlanComment, parts []string) {
	t.Helper()
	if len(parts) == 0 {
		t.Fatal("no parts rendered")
	}
	var blocks []string
	var truncatedIn []bool
	for i, p := range parts {
		if len(p) > MaxCommentChars {
			t.Fatalf("part %d is %d bytes, over GitHub's %d", i+1, len(p), MaxCommentChars)
		}
		m, ok := ParseMarker(p)
		if !ok || m.Part != i+1 || m.SHA != markerSHA(in.HeadSHA) {
			t.Fatalf("part %d marker = %+v, %v; first line %q", i+1, m, ok, strings.SplitN(p, "\n", 2)[0])
		}
		r := renderMarkdown(t, p)
		for _, tag := range htmlTag.FindAllStringSubmatch(r.html, -1) {
			if !allowedTags[strings.ToLower(tag[2])] {
				t.Fatalf("part %d renders a <%s%s> element that untrusted text injected", i+1, tag[1], tag[2])
			}
		}
		for range r.diffs {
			truncatedIn = append(truncatedIn, strings.Contains(p, "This diff is too large for GitHub"))
		}
		blocks = append(blocks, r.diffs...)
	}
	var want []string
	for _, e := range in.Envs {
		if e.Plan == nil || e.Failure != "" {
			continue
		}
		for _, ch := range e.Plan.Changes {
			// Adopted objects are listed without a diff.
			if ch.Action != planner.ActionUnchanged && ch.Action != planner.ActionAdopt && sanitizeBlock(ch.Diff) != "" {
				d := sanitizeBlock(ch.Diff)
				if !strings.HasSuffix(d, "\n") {
					d += "\n"
				}
				want = append(want, d)
			}
		}
	}
	if len(blocks) != len(want) {
		t.Fatalf("%d diff blocks rendered, want one per change (%d)", len(blocks), len(want))
	}
	for i, w := range want {
		got := blocks[i]
		if got == w {
			continue
		}
		// A cut diff shows a prefix; a line cut in the middle gets a newline.
		if !truncatedIn[i] || !strings.HasPrefix(w, strings.TrimSuffix(got, "\n")) || len(got) >= len(w) {
			t.Fatalf("diff %d is neither verbatim nor a marked cut:\ngot  %q\nwant %q", i, trimQ(got), trimQ(w))
		}
	}
}

func trimQ(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

func TestRenderTypicalPlans(t *testing.T) {
	for name, in := range map[string]PlanComment{
		"two-env": twoEnvPlan(), "problems": problemPlan(), "drift-danger": driftDangerPlan(),
	} {
		parts := RenderPlanComments(in)
		if len(parts) != 1 {
			t.Errorf("%s: %d parts, want 1", name, len(parts))
		}
		checkParts(t, in, parts)
	}
}

// TestRenderAdopt: objects that only gain tugboat's ApplySet label read as
// one line each under a count, with no diff and no drift note; a takeover
// from another ApplySet is a dangerous update with its diff.
func TestRenderAdopt(t *testing.T) {
	in := adoptPlan()
	parts := RenderPlanComments(in)
	checkParts(t, in, parts)
	main := parts[0]
	if !strings.Contains(main, "| **staging** | `staging-eu1` | +0 ~2 −0 ⊕3 adopt | 0 | 1 | ⚠️ 1 | on `/apply staging` |") {
		t.Errorf("summary row does not count 3 adopt, 1 drift (the takeover), 1 danger:\n%s", main)
	}
	for _, line := range []string{
		"- `ConfigMap apps/web-config` · [`deploy/base/config.yaml:1`]",
		"- `Service apps/web` · [`deploy/base/service.yaml:1`]",
		"- `Deployment apps/worker` · [`deploy/base/worker.yaml:1`]",
	} {
		if strings.Count(main, line) != 1 {
			t.Errorf("adopted object not listed once as %q:\n%s", line, main)
		}
	}
	if n := strings.Count(main, "```diff"); n != 2 {
		t.Errorf("%d diffs, want 2 (the takeover and the image update)", n)
	}
	if !strings.Contains(main, "**Dangerous:** takes the object over from another ApplySet") {
		t.Error("the takeover is not flagged dangerous")
	}
	if !strings.Contains(main, "`/apply staging --allow-dangerous`") {
		t.Error("the takeover does not ask for --allow-dangerous")
	}

	cr := CheckRunOutput(in.Envs[0].Plan, ApplyOnComment, "")
	if cr.Title != "+0 ~2 −0 ⊕3 adopt: waiting for /apply" || cr.Conclusion != ConclusionActionRequired {
		t.Errorf("check run %q %q", cr.Conclusion, cr.Title)
	}
	if !strings.Contains(cr.Summary, "| 0 | 2 | 0 | 3 | 1 | 1 | 1 |") {
		t.Errorf("check-run counts:\n%s", cr.Summary)
	}
	if !strings.Contains(cr.Text, "- `Deployment apps/worker`") || strings.Count(cr.Text, "```diff") != 2 {
		t.Errorf("check-run text:\n%s", cr.Text)
	}

	only := &planner.Plan{Env: "staging", Cluster: "c", Digest: digestA, Changes: []planner.Change{
		{Ref: configMap("apps", "a"), Action: planner.ActionAdopt}}}
	if cr := CheckRunOutput(only, ApplyOnComment, ""); cr.Title != "+0 ~0 −0 ⊕1 adopt: waiting for /apply" {
		t.Errorf("a plan that only adopts: %q (it still writes the label)", cr.Title)
	}
}

func TestRenderSummaryTable(t *testing.T) {
	main := RenderPlanComments(twoEnvPlan())[0]
	for _, row := range []string{
		"| **staging** | `staging-eu1` | +1 ~2 −0 | 0 | 0 | 0 | on `/apply staging` |",
		"| **prod** | `prod-us1` | +0 ~1 −0 | 0 | 0 | 0 | on merge |",
		"| **dev** | `dev` | not affected | | | | on merge, kept in sync |",
	} {
		if !strings.Contains(main, row) {
			t.Errorf("summary lacks row %s", row)
		}
	}
	// An unaffected environment has a row but no details block.
	if strings.Contains(main, "<b>dev</b>") {
		t.Error("unaffected environment dev got a details block")
	}
	if strings.Contains(main, "untouched") {
		t.Error("unchanged object rendered")
	}
	if !strings.Contains(main, "1 object unchanged") {
		t.Error("unchanged count missing")
	}
	dd := RenderPlanComments(driftDangerPlan())[0]
	if !strings.Contains(dd, "| **staging** | `staging-eu1` | +0 ~1 −1 | 0 | 1 | ⚠️ 1 | on `/apply staging` |") {
		t.Errorf("drift/danger row wrong:\n%s", dd)
	}
	if !strings.Contains(dd, "`/apply staging --allow-dangerous`") {
		t.Error("dangerous plan does not say how to apply it")
	}
	locked := twoEnvPlan()
	locked.Envs[0].LockedBy = 12
	if m := RenderPlanComments(locked)[0]; !strings.Contains(m, "| on `/apply staging` · 🔒 locked by #12 |") {
		t.Errorf("a locked environment's row does not name the holder:\n%s", m)
	}
}

func TestRenderProblemsAndFailures(t *testing.T) {
	in := problemPlan()
	main := RenderPlanComments(in)[0]
	for _, want := range []string{
		"| ❌ 3 |",
		"[`deploy/base/web.yaml:14`](<https://github.com/acme/platform/blob/" + mergeSHA + "/deploy/base/web.yaml#L14>)",
		"**3 problems block this environment**",
		"`Deployment/apps/web`: spec.template",
		`"2 \| 3"`,         // a pipe in a message cannot end a cell or anything else
		"&lt;quantity&gt;", // HTML in a message is shown, not interpreted
		"@\u200bacme/sre",  // a team in a message is not pinged
		"\\*privileged\\*", // emphasis in a message is literal
		"⚠️ not planned: tugboat failed",
		"connect: connection refused",
		"Comment `/plan prod` to try again.",
		"takes effect only after merge",
	} {
		if !strings.Contains(main, want) {
			t.Errorf("problem comment lacks %q", want)
		}
	}
	if strings.Contains(main, "To apply") {
		t.Error("a plan with problems tells people how to apply it")
	}
	h := renderMarkdown(t, main).html
	if strings.Contains(h, "<quantity>") || strings.Contains(h, "<b>only</b>") {
		t.Error("HTML from a message or note was rendered")
	}
}

func TestRenderEscapesNames(t *testing.T) {
	in := driftDangerPlan()
	in.Envs[0].Cluster = "evil|cluster<script>"
	in.Envs[0].Env = "a|b</summary></details>"
	in.Envs[0].Plan.Changes[1].Ref.Name = "web`|<img src=x>"
	in.Envs[0].Plan.Changes[0].Danger = "</details><script>alert(1)</script>"
	in.Notes = []string{"line one\n| x | y |\n</details>"}
	parts := RenderPlanComments(in)
	checkParts(t, in, parts)
	h := renderMarkdown(t, parts[0]).html
	if strings.Contains(h, "<script>") || strings.Contains(h, "<img") {
		t.Errorf("HTML from names is rendered as HTML:\n%s", h)
	}
	// The names are still shown, as text.
	for _, want := range []string{"&lt;script&gt;", "&lt;img src=x&gt;", "evil|cluster"} {
		if !strings.Contains(h, want) {
			t.Errorf("rendered comment lacks %q:\n%s", want, h)
		}
	}
}

func TestRenderFenceLongerThanBackticks(t *testing.T) {
	in := driftDangerPlan()
	diff := "--- live\n+++ desired\n@@ -1 +1 @@\n-a: \"```\"\n+a: \"````\"\n````\n</details>\n"
	in.Envs[0].Plan.Changes[1].Diff = diff
	parts := RenderPlanComments(in)
	checkParts(t, in, parts)
	if !strings.Contains(parts[0], "`````diff\n"+diff+"`````\n") {
		t.Errorf("diff not fenced with five backticks:\n%s", parts[0])
	}
}

func TestRenderSplitsHugePlans(t *testing.T) {
	in := hugePlan(600)
	parts := RenderPlanComments(in)
	if len(parts) < 5 {
		t.Fatalf("%d parts for a ~300 KB plan, want at least 5", len(parts))
	}
	checkParts(t, in, parts)
	for i, p := range parts {
		if (i == 0) != strings.Contains(p, "| Environment |") {
			t.Errorf("part %d: summary table only belongs in the main comment", i+1)
		}
		if i > 0 && !strings.Contains(p, fmt.Sprintf("part %d of %d", i+1, len(parts))) {
			t.Errorf("part %d lacks its continuation header", i+1)
		}
		if i < len(parts)-1 && !strings.Contains(p, "the next comment") {
			t.Errorf("part %d does not say it continues", i+1)
		}
		if i > 0 && !strings.Contains(p, "<b>prod</b> (continued)") {
			t.Errorf("part %d does not reopen the prod block", i+1)
		}
		// Parts are filled: only the last may be much below the limit.
		if i < len(parts)-1 && len(p) < MaxCommentChars-4096 {
			t.Errorf("part %d is only %d bytes", i+1, len(p))
		}
	}
	// Every object shows up exactly once, in order.
	all := strings.Join(parts, "")
	last := -1
	for i := range 600 {
		name := fmt.Sprintf("`ConfigMap apps/settings-%03d`", i)
		if n := strings.Count(all, name); n != 1 {
			t.Fatalf("%s appears %d times", name, n)
		}
		at := strings.Index(all, name)
		if at < last {
			t.Fatalf("%s out of order", name)
		}
		last = at
	}
}

func TestRenderSplitsLongProblemLists(t *testing.T) {
	in := problemPlan()
	p := in.Envs[0].Plan
	for i := range 1500 {
		p.Problems = append(p.Problems, planner.Problem{Source: planner.Location{File: fmt.Sprintf("deploy/f%04d.yaml", i), Line: 7},
			Message: "metadata.name: Invalid value: \"Web_" + fmt.Sprint(i) + "\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters"})
	}
	for i := range 30 {
		in.Notes = append(in.Notes, fmt.Sprintf("note %d", i))
	}
	parts := RenderPlanComments(in)
	if len(parts) < 3 {
		t.Fatalf("%d parts for ~250 KB of problems", len(parts))
	}
	checkParts(t, in, parts)
	all := strings.Join(parts, "")
	for _, want := range []string{"deploy/f0000.yaml:7", "deploy/f1499.yaml:7", "Comment `/plan prod` to try again."} {
		if !strings.Contains(all, want) {
			t.Errorf("split comment set lacks %q", want)
		}
	}
	if !strings.Contains(parts[0], "and 11 more notes") {
		t.Error("notes beyond the first 20 are not summarised")
	}
}

func TestRenderTruncatesOversizedObject(t *testing.T) {
	in := driftDangerPlan()
	var d strings.Builder
	d.WriteString("--- live\n+++ desired\n@@ -0,0 +1,5000 @@\n")
	for i := range 5000 {
		fmt.Fprintf(&d, "+  line-%04d: %s\n", i, strings.Repeat("x", 40))
	}
	in.Envs[0].Plan.Changes[1].Diff = d.String()
	parts := RenderPlanComments(in)
	checkParts(t, in, parts)
	all := strings.Join(parts, "")
	if !strings.Contains(all, "This diff is too large for GitHub: only its first ") ||
		!strings.Contains(all, " of 5003 lines are shown.") {
		t.Errorf("no truncation note")
	}
	if strings.Contains(all, "line-4999") {
		t.Error("the end of an oversized diff was shown")
	}

	// A single line longer than a comment is cut too.
	in.Envs[0].Plan.Changes[1].Diff = "+" + strings.Repeat("é", 70000) + "\n"
	parts = RenderPlanComments(in)
	checkParts(t, in, parts)
	if !strings.Contains(strings.Join(parts, ""), "only the start of its first line (of 1) is shown") {
		t.Error("no note for a cut line")
	}
}

func TestRenderNoEnvironments(t *testing.T) {
	in := PlanComment{HeadSHA: headSHA}
	parts := RenderPlanComments(in)
	checkParts(t, in, parts)
	if !strings.Contains(parts[0], "No environment is configured") {
		t.Errorf("empty plan says nothing:\n%s", parts[0])
	}
}

func TestMarker(t *testing.T) {
	m := Marker{SHA: headSHA, Part: 3}
	got, ok := ParseMarker(m.String() + "\n## tugboat plan")
	if !ok || got != m {
		t.Fatalf("ParseMarker(%q) = %+v, %v", m.String(), got, ok)
	}
	for _, body := range []string{
		"", "hello", "## plan\n" + m.String(), "<!-- tugboat:plan sha=abc part=0 -->",
		"<!-- tugboat:plan sha= part=1 -->", "<!-- tugboat:plan sha=abc part=1 --> trailing",
		"<!-- tugboat:plan sha=a-b part=1 -->", "<!-- tugboat:plan sha=abc part=1x -->",
	} {
		if got, ok := ParseMarker(body); ok {
			t.Errorf("ParseMarker(%q) = %+v, want no marker", body, got)
		}
	}
	// A SHA cannot smuggle "-->" into the marker.
	if s := (Marker{SHA: "ab-->c", Part: 1}).String(); s != "<!-- tugboat:plan sha=abc part=1 -->" {
		t.Errorf("marker = %q", s)
	}
}

// FuzzRender renders plans whose diffs, names and messages are arbitrary and
// checks every part against checkParts: within the limit, valid Markdown,
// no injected HTML, each diff verbatim in a fence or cut with a note.
func FuzzRender(f *testing.F) {
	f.Add("--- live\n+++ desired\n-a: 1\n+a: 2\n", "web", uint8(2), uint16(0))
	f.Add("```\n</details>\n<script>", "x|y", uint8(1), uint16(3))
	f.Fuzz(func(t *testing.T, diff, name string, n uint8, repeat uint16) {
		rep := 1 + int(repeat)%3000
		if len(diff)*rep > 400_000 {
			rep = max(1, 400_000/max(len(diff), 1))
		}
		diff = strings.Repeat(diff, rep)
		p := &planner.Plan{Env: "staging", Cluster: "c", Commit: mergeSHA, Digest: digestA}
		actions := []planner.Action{planner.ActionCreate, planner.ActionUpdate, planner.ActionDelete, planner.ActionUnchanged, planner.ActionAdopt}
		for i := range int(n%6) + 1 {
			p.Changes = append(p.Changes, planner.Change{
				Ref:    planner.ObjectRef{Kind: "ConfigMap", Namespace: name, Name: fmt.Sprintf("%s-%d", name, i)},
				Action: actions[i%len(actions)], Diff: diff, FromPR: i%2 == 0,
				Source: planner.Location{File: name + ".yaml", Line: i},
			})
			if p.Changes[i].Action == planner.ActionAdopt {
				p.Changes[i].Diff = "" // the planner gives adopts none
			}
			if i%3 == 1 {
				p.Changes[i].Danger = name
			}
		}
		if n%2 == 1 {
			p.Problems = append(p.Problems, planner.Problem{Source: planner.Location{File: name}, Object: name, Message: diff[:min(len(diff), 5000)]})
		}
		in := PlanComment{
			RepoURL: "https://github.com/acme/platform", HeadSHA: headSHA, Notes: []string{name},
			Envs: []EnvPlan{
				{Env: name, Cluster: name, Mode: ApplyOnComment, Plan: p},
				{Env: "prod", Cluster: "p", Mode: ApplyOnMerge, Failure: name},
			},
		}
		checkParts(t, in, RenderPlanComments(in))
		cr := CheckRunOutput(p, ApplyOnComment, "https://github.com/acme/platform/pull/1#issuecomment-2")
		if len(cr.Summary) > MaxCheckRunText || len(cr.Text) > MaxCheckRunText {
			t.Fatalf("check run output too long: summary %d, text %d", len(cr.Summary), len(cr.Text))
		}
		renderMarkdown(t, cr.Summary)
		renderMarkdown(t, cr.Text)
	})
}

func TestRenderClusterFromPlan(t *testing.T) {
	in := twoEnvPlan()
	in.Envs[1].Cluster = ""
	if main := RenderPlanComments(in)[0]; !strings.Contains(main, "| **prod** | `prod-us1` |") {
		t.Errorf("cluster not taken from the plan:\n%s", main)
	}
}

// TestRenderCapsCommentParts: a plan too long for MaxCommentParts comments
// is cut after the last one, which says so and points to the check runs and
// `bot plan`; every part is still valid and within GitHub's limit.
func TestRenderCapsCommentParts(t *testing.T) {
	in := hugePlan(2500)
	in.RepoURL = "https://github.com/acme/platform"
	parts := RenderPlanComments(in)
	if len(parts) != MaxCommentParts {
		t.Fatalf("%d parts, want the cap %d", len(parts), MaxCommentParts)
	}
	for i, p := range parts {
		if len(p) > MaxCommentChars {
			t.Fatalf("part %d is %d bytes", i+1, len(p))
		}
		if m, ok := ParseMarker(p); !ok || m.Part != i+1 {
			t.Fatalf("part %d marker = %+v, %v", i+1, m, ok)
		}
		if i > 0 && !strings.Contains(p, fmt.Sprintf("part %d of %d", i+1, MaxCommentParts)) {
			t.Errorf("part %d lacks its continuation header", i+1)
		}
		renderMarkdown(t, p)
	}
	last := parts[MaxCommentParts-1]
	for _, want := range []string{"This plan is too long for 10 comments: the rest, which would take ",
		"[the Checks tab](<https://github.com/acme/platform/pull/45/checks>)", "`bot plan` shows the whole plan"} {
		if !strings.Contains(last, want) {
			t.Errorf("last part lacks %q:\n%s", want, last[max(0, len(last)-1500):])
		}
	}
	if strings.Contains(last, "the next comment") {
		t.Error("the last part says it continues")
	}
	all := strings.Join(parts, "")
	if !strings.Contains(all, "`ConfigMap apps/settings-000`") || strings.Contains(all, "`ConfigMap apps/settings-2499`") {
		t.Error("want the plan's start shown and its end cut")
	}
	if !strings.Contains(parts[0], "| Environment |") {
		t.Error("the summary table is missing")
	}
}
