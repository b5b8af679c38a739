package comments

import (
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/applier"
	"github.com/tugboatops/tugboat/planner"
)

// checkMarkdown asserts what every text tugboat posts must satisfy: within
// limit, valid Markdown on its own (balanced <details>, consistent tables)
// and no HTML element that untrusted text injected. It returns the
// rendered form.
func checkMarkdown(t testing.TB, name, md string, limit int) rendered {
	t.Helper()
	if len(md) > limit {
		t.Fatalf("%s is %d bytes, over the limit of %d", name, len(md), limit)
	}
	r := renderMarkdown(t, md)
	for _, tag := range htmlTag.FindAllStringSubmatch(r.html, -1) {
		if !allowedTags[strings.ToLower(tag[2])] {
			t.Fatalf("%s renders a <%s%s> element that untrusted text injected:\n%s", name, tag[1], tag[2], md)
		}
	}
	return r
}

var anyTag = regexp.MustCompile(`<[^>]*>`)

// visible is the text a reader sees in rendered HTML: tags dropped,
// entities decoded, the zero-width spaces that defuse mentions removed.
func visible(h string) string {
	return strings.ReplaceAll(html.UnescapeString(anyTag.ReplaceAllString(h, "")), "\u200b", "")
}

func TestGoldenApplyComments(t *testing.T) {
	for name, r := range map[string]ApplyReport{
		"apply-converged":            convergedReport(),
		"apply-crashloop":            crashloopReport(),
		"apply-incomplete-merge":     incompleteReport(),
		"apply-refused-plan-changed": refusedReport(planChangedErr()),
		"apply-refused-problems":     refusedReport(problemsErr()),
		"apply-refused-dangerous":    refusedReport(dangerousErr()),
		"apply-refused-denied":       refusedReport(deniedErr()),
		"apply-error":                errorReport(),
	} {
		t.Run(name, func(t *testing.T) {
			body := ApplyComment(r)
			checkMarkdown(t, name, body, MaxCommentChars)
			golden(t, name, []string{body})
		})
	}
}

func TestApplyCommentConverged(t *testing.T) {
	body := ApplyComment(convergedReport())
	for _, want := range []string{
		"## ✅ staging: applied, converged in 14s\n",
		"Started by @\u200balice with `/apply` on #42 · cluster `staging-eu1` · commit [`9e8d7c6`](<" + repoURL + "/commit/" + mergeSHA + ">)" +
			" (test merge of head [`4f2a9c1`](<" + repoURL + "/commit/" + headSHA + ">)) · plan digest `" + digestA + "` · [check run](<" + checkRunURL + ">)",
		"Took 14s: plan 1.2s · apply 3.4s · prune 300ms · wait 9.3s. Plan: +1 ~2 −1 ⊕1 adopt, 1 unchanged.",
		"**Created** (1):\n\n- `ConfigMap apps/web-flags`\n",
		"**Updated** (2):\n\n- `Deployment apps/web`\n- `Secret apps/web-db`\n",
		"**Adopted** (1):\n\n- `ConfigMap apps/legacy-settings`\n",
		"**Pruned** (1):\n\n- `ConfigMap apps/old-flags`\n",
		"- `Deployment apps/web` `.spec.replicas` from `kubectl-edit`\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("converged comment lacks %q:\n%s", want, body)
		}
	}
	for _, not := range []string{"Not ready", "try again", "nothing was written"} {
		if strings.Contains(body, not) {
			t.Errorf("converged comment says %q", not)
		}
	}
	// The Secret is named, never shown: the comment renders no diff.
	if strings.Contains(body, "password") || strings.Contains(body, "```") {
		t.Errorf("converged comment shows object data:\n%s", body)
	}

	// Without a repository URL there are no links.
	r := convergedReport()
	r.RepoURL, r.CheckRunURL = "", ""
	if body := ApplyComment(r); strings.Contains(body, "](") {
		t.Errorf("links without URLs:\n%s", body)
	}

	// An apply of a plan without changes says so.
	r = convergedReport()
	r.Result.Plan = &planner.Plan{Env: "staging", Digest: digestA, Changes: []planner.Change{{Ref: configMap("apps", "a"), Action: planner.ActionUnchanged}}}
	r.Result.Writes, r.Result.Prunes, r.Result.Takeovers = nil, nil, nil
	if body := ApplyComment(r); !strings.Contains(body, "Nothing needed changing") {
		t.Errorf("no-change apply does not say so:\n%s", body)
	}
}

func TestApplyCommentDiagnosis(t *testing.T) {
	body := ApplyComment(crashloopReport())
	r := checkMarkdown(t, "crashloop", body, MaxCommentChars)
	for _, want := range []string{
		"## ❌ staging: applied, not converged\n",
		"Started by @\u200bbob with the **Apply** button on #42",
		"Every change was written, but 2 objects did not become ready. Comment `/apply staging` to try again.",
		"### Not ready (2)",
		"❌ **`Deployment apps/web`** Failed: Deployment rollout: 0 of 2 updated replicas are available",
		"Pod `web-7d9f8c6b5-x2x9q` (Running)",
		"| `web` | waiting: CrashLoopBackOff — back-off 2m40s restarting failed container=web pod=web-7d9f8c6b5-x2x9q\\_apps(5c1e) | no | 5 | Error (exit code 1) |",
		"| `migrate` (init) | terminated: Completed (exit code 0) | yes | 0 |  |",
		"Logs of `proxy` could not be read: container \"proxy\" in pod is waiting to start",
		"…and 1 more pod.",
		"| Warning | BackOff | `Pod/web-7d9f8c6b5-x2x9q` | Back-off restarting failed container web in pod web-7d9f8c6b5-x2x9q\\_apps(5c1e) | 12 |",
		"⏳ **`Deployment apps/worker`** InProgress",
		"Pod `worker-5f6d7-abcde` (Pending): Unschedulable: 0/3 nodes are available: 3 Insufficient cpu.",
		"**Created** (1):",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("crashloop comment lacks %q", want)
		}
	}
	// The log lines are shown verbatim, in a code block no line can close.
	logs := strings.Join(crashLogs, "\n") + "\n"
	if !strings.Contains(r.html, "<pre><code class=\"language-text\">"+html.EscapeString(logs)+"</code></pre>") {
		t.Errorf("logs not shown verbatim in one code block:\n%s", r.html)
	}
	// Nothing from the cluster is interpreted: no script, no mention, and
	// the mark of a scrubbed Secret is shown as it is, not as emphasis.
	if strings.Contains(r.html, "<script>") || strings.Contains(r.html, "<b>env</b>") {
		t.Errorf("HTML from the cluster rendered:\n%s", r.html)
	}
	if !strings.Contains(visible(r.html), `key DB_PASSWORD=*** is not valid for <b>env</b>`) {
		t.Errorf("event message not shown literally:\n%s", visible(r.html))
	}
	if strings.Contains(r.html, "<em>") || strings.Contains(r.html, "<hr") {
		t.Errorf("text from the cluster became emphasis or a rule:\n%s", r.html)
	}
}

func TestApplyCommentFailures(t *testing.T) {
	tests := []struct {
		name string
		r    ApplyReport
		want []string
	}{
		{"incomplete merge", incompleteReport(), []string{
			"## ❌ staging: deploy stopped part-way",
			"Deploy of the merge of #42 · cluster `staging-eu1` · commit [`9e8d7c6`]",
			"The deploy stopped part-way: dial tcp 10.0.0.7:6443: connect: connection refused",
			"Merge a fix to deploy again.",
			"**Applied** (1):\n\n- `ConfigMap apps/web-flags`",
			"**Not applied** (3):\n\n- `Secret apps/web-db`\n- `ConfigMap apps/legacy-settings`\n- `ConfigMap apps/old-flags`",
			"**Outcome unknown** (the answer was lost; the next apply finds out) (1):\n\n- `Deployment apps/web`",
			"- `Deployment apps/web`: Patch \"https://10.0.0.7:6443/apis/apps/v1/namespaces/apps/deployments/web\": unexpected EOF",
		}},
		{"plan changed", refusedReport(planChangedErr()), []string{
			"## ⛔ staging: not applied, nothing was written",
			"The plan changed since it was shown (shown `" + digestA + "`, now `" + digestB + "`), so nothing was written. " +
				"Review the new plan and comment `/apply staging` again.",
			"Took 2s: plan 900ms.",
		}},
		{"problems", refusedReport(problemsErr()), []string{
			"The plan has 3 problems, so nothing was written.",
			"- [`deploy/base/web.yaml:30`](<" + repoURL + "/blob/" + mergeSHA + "/deploy/base/web.yaml#L30>) `Deployment/apps/web`: spec.template",
			"&lt;quantity&gt;; ask @\u200bacme/sre",
		}},
		{"dangerous", refusedReport(dangerousErr()), []string{
			"The plan deletes objects that need `--allow-dangerous`, so nothing was written.",
			"- `Namespace legacy`: deletes Namespace legacy and every object in it",
			"Comment `/apply staging --allow-dangerous` to go ahead.",
		}},
		{"denied", refusedReport(deniedErr()), []string{
			"tugboat's Kubernetes account on cluster `staging-eu1` lacks permissions this plan needs, so nothing was written.",
			"- `patch deployments.apps in namespace apps` — for `Deployment/apps/web`, `Deployment/apps/worker`",
			"- `delete configmaps in namespace apps` — for `ConfigMap/apps/old-flags`: RBAC: role \"tugboat\" does not allow delete \\| ask @\u200bacme/platform",
		}},
		{"error", errorReport(), []string{
			"## ⚠️ staging: apply failed",
			"tugboat failed before the apply was done:\n\n```text\napply staging: re-plan: render deploy/overlays/staging:",
			"Took 1.5s.",
		}},
	}
	for _, tt := range tests {
		body := ApplyComment(tt.r)
		checkMarkdown(t, tt.name, body, MaxCommentChars)
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: comment lacks %q:\n%s", tt.name, w, body)
			}
		}
		if tt.r.Err != nil && strings.Contains(body, "converged in") {
			t.Errorf("%s: failed apply says converged", tt.name)
		}
	}
}

func TestApplyCommentTriggers(t *testing.T) {
	for _, tt := range []struct {
		trigger Trigger
		actor   string
		pr      int
		title   string
		started string
	}{
		{TriggerComment, "alice", 42, "## ✅ staging: applied, converged in 14s", "Started by @\u200balice with `/apply` on #42"},
		{TriggerButton, "bob", 42, "## ✅ staging: applied, converged in 14s", "Started by @\u200bbob with the **Apply** button on #42"},
		{TriggerMerge, "", 42, "## ✅ staging: deployed, converged in 14s", "Deploy of the merge of #42 ·"},
		{TriggerMerge, "", 0, "## ✅ staging: deployed, converged in 14s", "Deploy of a push to the default branch ·"},
		{TriggerClose, "", 42, "## ✅ staging: reverted, converged in 14s", "Revert to the default branch: #42 was closed without merging"},
		{TriggerHeal, "", 0, "## ✅ staging: healed, converged in 14s", "Drift heal: back to the default branch"},
	} {
		r := convergedReport()
		r.Trigger, r.Actor, r.PR = tt.trigger, tt.actor, tt.pr
		body := ApplyComment(r)
		if !strings.HasPrefix(body, tt.title+"\n") || !strings.Contains(body, tt.started) {
			t.Errorf("%s: comment starts\n%s\nwant %q and %q", tt.trigger, body[:min(len(body), 400)], tt.title, tt.started)
		}
	}
	// A login is shown, never linked or pinged, whatever it contains.
	r := convergedReport()
	r.Actor = "x](https://evil.example)<b>"
	h := checkMarkdown(t, "evil actor", ApplyComment(r), MaxCommentChars).html
	if !strings.Contains(visible(h), "Started by @x](https://evil.example)<b> with") || strings.Contains(h, "<b>") {
		t.Errorf("actor became markup:\n%s", h)
	}
	// Notes are shown as notes, escaped.
	r.Notes = []string{"staging was not applied before merge, so the merge deploys it | <i>now</i>"}
	if body := ApplyComment(r); !strings.Contains(body, "> [!NOTE]\n> staging was not applied before merge, so the merge deploys it \\| &lt;i&gt;now&lt;/i&gt;\n") {
		t.Errorf("note not shown:\n%s", body)
	}
}

// TestApplyCommentSizeBound lists thousands of objects and dozens of
// failing workloads: the comment stays under GitHub's limit, caps every
// list with a pointer to the check run, and stays valid Markdown.
func TestApplyCommentSizeBound(t *testing.T) {
	r := manyObjectsReport(3000, 40)
	body := ApplyComment(r)
	checkMarkdown(t, "many objects", body, MaxCommentChars)
	for _, want := range []string{
		"### Not ready (40)",
		"…and 15 more not ready — see [the check run](<" + checkRunURL + ">).",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q", want)
		}
	}
	if strings.Contains(body, "cut to GitHub's size limit") {
		t.Error("a comment that fits says it was cut")
	}

	// With few failures, the lists are capped at 25 each.
	r = manyObjectsReport(3000, 1)
	body = ApplyComment(r)
	checkMarkdown(t, "many objects, one failure", body, MaxCommentChars)
	for _, want := range []string{
		"**Created** (3000):",
		"- `ConfigMap apps/settings-0024-with-a-rather-long-name-to-fill-lines`\n- …and 2975 more — see [the check run](<" + checkRunURL + ">)\n",
		"**Kept** (3000):",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q", want)
		}
	}
	if strings.Contains(body, "settings-0025") || strings.Contains(body, "cut to GitHub's size limit") {
		t.Error("a capped list shows more than 25 objects, or a short comment says it was cut")
	}

	// Enormous log lines and messages are clipped, never cut inside a fence.
	r = crashloopReport()
	d := r.Result.Wait.Objects[1].Diagnosis
	for i := range 12 {
		c := applier.ContainerState{Name: fmt.Sprintf("c%d", i), State: "waiting", Reason: "CrashLoopBackOff",
			Message: strings.Repeat("m|`<", 3000)}
		for range 40 {
			c.Logs = append(c.Logs, strings.Repeat("````x", 4000))
		}
		d.Pods[0].Containers = append(d.Pods[0].Containers, c)
	}
	for range 5 {
		d.Pods = append(d.Pods, d.Pods[0])
	}
	body = ApplyComment(r)
	checkMarkdown(t, "huge logs", body, MaxCommentChars)
	if !strings.Contains(body, "| …and 5 more | | | | |") {
		t.Error("containers beyond 10 are not summarised")
	}
	if strings.Contains(body, strings.Repeat("````x", 200)) {
		t.Error("a log line was not clipped")
	}
	// The diagnosis fills the comment: what follows is cut at a block
	// boundary, and the cut is said.
	if !strings.HasSuffix(body, "\n_This comment is cut to GitHub's size limit — see [the check run](<"+checkRunURL+">)._\n") {
		t.Errorf("cut comment does not say so; it ends:\n%s", body[len(body)-500:])
	}
	if len(body) < MaxCommentChars-budgetReserve-10000 {
		t.Errorf("cut comment is only %d bytes: too much was left out", len(body))
	}
}

func TestApplyCommentTimedOut(t *testing.T) {
	r := crashloopReport()
	w := r.Result.Wait
	w.Objects = w.Objects[2:] // only the pending worker
	w.TimedOut, w.Duration = true, 5*time.Minute
	body := ApplyComment(r)
	want := "Every change was written, but 1 object did not become ready within 5m0s (the environment's `wait:`)."
	if !strings.Contains(body, want) {
		t.Errorf("timed-out comment lacks %q:\n%s", want, body)
	}
}
