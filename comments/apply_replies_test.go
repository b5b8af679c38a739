package comments

import (
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tugboatops/tugboat/planner"
)

const (
	newPlanURL  = "https://github.com/acme/platform/pull/42#issuecomment-2002"
	settingsURL = "https://github.com/organizations/acme/settings/installations/77"
	olderHead   = "abc1234def5678abc1234def5678abc1234def56"
	newerHead   = "def5678abc1234def5678abc1234def5678abc12"
)

// TestReasonTexts pins every reason a person can get, in both forms.
func TestReasonTexts(t *testing.T) {
	tests := []struct {
		name      string
		r         Reason
		md, plain string
	}{
		{"no write", ReasonNotAllowed(nil),
			"applying needs write, maintain or admin permission on the repository", "needs write permission on the repository"},
		{"not an applier", ReasonNotAllowed([]string{"alice", "team:acme/platform"}),
			"only the environment's `appliers:` may apply it: `alice`, `team:acme/platform` (and repository admins)",
			"only appliers may apply: alice, team:acme/platform"},
		{"approvals", ReasonApprovals(2, 1), "needs 2 approvals, has 1", "needs 2 approvals, has 1"},
		{"one approval", ReasonApprovals(1, 0), "needs 1 approval, has 0", "needs 1 approval, has 0"},
		{"changes requested", ReasonChangesRequested("x", "carol"), "changes requested by @\u200bx, @\u200bcarol", "changes requested by x, carol"},
		{"stale approval", ReasonStaleApproval("y", olderHead),
			"the approval by @\u200by is for an older commit (`abc1234`) whose files differ", "approval by y is for an older commit"},
		{"conflict", ReasonConflict("main"), "the pull request conflicts with `main`", "conflicts with main"},
		{"draft", ReasonDraft(), "the pull request is a draft", "the pull request is a draft"},
		{"closed", ReasonClosed(), "the pull request is closed", "the pull request is closed"},
		{"merged", ReasonMerged("prod"),
			"the pull request is merged: prod was deployed on merge, and `/apply` on a merged pull request only deploys environments that were held back by their requirements",
			"the pull request is merged"},
		{"check failed", ReasonCheckFailed("ci/test", "failure"), "check `ci/test` failed", "check ci/test failed"},
		{"check timed out", ReasonCheckFailed("ci/e2e", "timed_out"), "check `ci/e2e` failed (timed\\_out)", "check ci/e2e failed (timed_out)"},
		{"check pending", ReasonCheckPending("build"), "check `build` is pending", "check build is pending"},
		{"check missing", ReasonCheckMissing("lint"), "required check `lint` has not reported", "required check lint has not reported"},
		{"locked", ReasonLocked("staging", 12),
			"locked by #12 — `/unlock staging` on #12 (or here) releases it", "locked by #12"},
		{"plan changed", ReasonPlanChanged("staging", newPlanURL),
			"the plan changed since it was shown; review [the new plan](<" + newPlanURL + ">) and `/apply staging` again",
			"the plan changed since it was shown"},
		{"plan changed, not posted", ReasonPlanChanged("staging", ""),
			"the plan changed since it was shown; review the new plan and `/apply staging` again", "the plan changed since it was shown"},
		{"not planned", ReasonNotPlanned("staging", newerHead),
			"the head `def5678` has not been planned yet; review its plan once it is posted, then `/apply staging`",
			"the head def5678 has not been planned yet"},
		{"older head", ReasonOlderHead(olderHead, newerHead),
			"this button is for `abc1234`; the pull request's head is now `def5678` — review its plan and apply from there",
			"this button is for abc1234; the head is now def5678"},
		{"already applied", ReasonAlreadyApplied("staging", digestA),
			"already applied: staging runs this plan (digest `" + digestA + "`) and converged",
			"already applied: staging runs this plan and converged"},
		{"on merge", ReasonDeploysOnMerge("prod", ApplyOnMerge), "prod deploys on merge (`apply: on-merge`)", "prod deploys on merge"},
		{"auto", ReasonDeploysOnMerge("dev", ApplyAuto), "dev deploys on merge (`apply: auto`)", "dev deploys on merge"},
		{"unknown env", ReasonUnknownEnv([]string{"staging", "prod"}),
			"no such environment; the environments are `staging`, `prod`", "no such environment"},
		{"unknown env, none", ReasonUnknownEnv(nil), "no such environment: `.tugboat.yaml` has none", "no such environment"},
		{"not affected", ReasonNotAffected([]string{"staging"}),
			"this pull request does not change it; it changes `staging`", "not affected by this pull request"},
		{"none affected", ReasonNotAffected(nil),
			"this pull request does not change it, nor any other environment", "not affected by this pull request"},
		{"no changes", ReasonNoChanges(), "nothing to apply: the cluster already matches the plan", "nothing to apply"},
		{"nothing to apply", ReasonNothingToApply(), "nothing to apply: no `on-comment` environment has changes", "nothing to apply"},
		{"problems", ReasonProblems(3), "the plan has 3 problems; fix them and push", "the plan has 3 problems"},
		{"dangerous", ReasonDangerous("staging", driftDangerPlan().Envs[0].Plan.Changes[:1]),
			"the plan deletes `Namespace legacy` (deletes Namespace legacy and every object in it); comment `/apply staging --allow-dangerous` to allow it",
			"dangerous deletes need --allow-dangerous: Namespace/legacy"},
		{"takeover", ReasonDangerous("staging", []planner.Change{takeoverChange("web")}),
			"the plan takes over `Deployment apps/web` (takes the object over from environment prod of acme/infra); comment `/apply staging --allow-dangerous` to allow it",
			"dangerous changes need --allow-dangerous: Deployment/web"},
		{"delete and takeover", ReasonDangerous("staging", append(driftDangerPlan().Envs[0].Plan.Changes[:1:1], takeoverChange("web"))),
			"the plan deletes `Namespace legacy` (deletes Namespace legacy and every object in it) and takes over `Deployment apps/web` (takes the object over from environment prod of acme/infra); comment `/apply staging --allow-dangerous` to allow it",
			"dangerous changes need --allow-dangerous: Namespace/legacy, Deployment/web"},
		{"permission", ReasonMissingPermission("deployments: write", settingsURL),
			"tugboat lacks the GitHub App permission `deployments: write`: an owner of the installation must accept the App's new permissions in [the installation settings](<" + settingsURL + ">)",
			"missing App permission deployments: write: accept the App's new permissions"},
		{"permission, no URL", ReasonMissingPermission("checks: write", ""),
			"tugboat lacks the GitHub App permission `checks: write`: an owner of the installation must accept the App's new permissions in the installation settings",
			"missing App permission checks: write: accept the App's new permissions"},
		{"after failed", ReasonAfterFailed("staging"), "staging failed", "staging failed"},
		{"after not deployed", ReasonAfterNotDeployed("staging"), "staging was not deployed", "staging was not deployed"},
		{"no PR", ReasonNoPullRequest(), "the pushed commit belongs to no pull request, and the environment has `requires:`", "no pull request"},
		{"other", ReasonOther("GitHub said: *nope* <b>"), "GitHub said: \\*nope\\* &lt;b&gt;", "GitHub said: *nope* <b>"},
	}
	for _, tt := range tests {
		if tt.r.Markdown() != tt.md {
			t.Errorf("%s: Markdown\n got  %q\n want %q", tt.name, tt.r.Markdown(), tt.md)
		}
		if tt.r.Text() != tt.plain {
			t.Errorf("%s: Text\n got  %q\n want %q", tt.name, tt.r.Text(), tt.plain)
		}
		checkMarkdown(t, tt.name, "- "+tt.r.Markdown()+"\n", MaxCommentChars)
	}
}

// TestReasonsEscapeNames: logins, check names and branches come from
// GitHub users; none of them can become markup, a link or a mention.
func TestReasonsEscapeNames(t *testing.T) {
	evil := "x`|</b>](https://evil.example)@acme/sre\n# h"
	many := make([]string, 30)
	for i := range many {
		many[i] = fmt.Sprintf("user-%d", i)
	}
	for _, r := range []Reason{
		ReasonNotAllowed([]string{evil}), ReasonChangesRequested(evil), ReasonStaleApproval(evil, headSHA),
		ReasonConflict(evil), ReasonCheckFailed(evil, evil), ReasonCheckPending(evil), ReasonCheckMissing(evil),
		ReasonUnknownEnv([]string{evil}), ReasonNotAffected([]string{evil}), ReasonMissingPermission(evil, "javascript:alert(1)"),
		ReasonOther(evil), ReasonNotAllowed(many),
		ReasonDangerous("staging", []planner.Change{{Ref: planner.ObjectRef{Kind: "Namespace", Name: evil}, Danger: evil}}),
	} {
		md := "- " + r.Markdown() + "\n"
		h := checkMarkdown(t, "evil", md, MaxCommentChars).html
		if maskedLink(h) || strings.Contains(h, "<h1") || strings.Contains(h, "</b>") {
			t.Errorf("%q renders as markup:\n%s", md, h)
		}
		if strings.Contains(r.Markdown(), "@acme") && !strings.Contains(r.Markdown(), "@\u200bacme") && !strings.Contains(r.Markdown(), "`") {
			t.Errorf("%q mentions a team", r.Markdown())
		}
		if strings.ContainsAny(r.Text(), "\n\r") {
			t.Errorf("plain text %q has a line break", r.Text())
		}
	}
	// URLs come from GitHub; still, only http(s) becomes a link, and nothing
	// can end its destination early.
	if md := ReasonMissingPermission("checks: write", "javascript:alert(1)").Markdown(); strings.Contains(md, "](") {
		t.Errorf("javascript: URL linked: %s", md)
	}
	if md := ReasonPlanChanged("staging", "https://x.example/a>b c").Markdown(); !strings.Contains(md, "[the new plan](<https://x.example/abc>)") {
		t.Errorf("URL not made safe: %s", md)
	}
	if md := ReasonNotAllowed(many).Markdown(); !strings.Contains(md, "`user-9`, and 20 more") || strings.Contains(md, "user-10") {
		t.Errorf("long appliers list not capped: %s", md)
	}
}

var link = regexp.MustCompile(`<a href="([^"]*)">(.*?)</a>`)

// maskedLink reports whether h has a link that shows something other than
// where it goes, as a Markdown link in untrusted text would. GitHub (and
// GFM) turn a bare URL in text into a link to itself, which hides nothing.
func maskedLink(h string) bool {
	for _, m := range link.FindAllStringSubmatch(h, -1) {
		href, shown := html.UnescapeString(m[1]), html.UnescapeString(m[2])
		if u, err := url.PathUnescape(href); err == nil {
			href = u
		}
		switch {
		case strings.HasPrefix(href, "https://github.com/acme/platform/"): // the renderer's own links
		case href == shown, href == "http://"+shown, href == "mailto:"+shown: // autolinks
		default:
			return true
		}
	}
	return false
}

func refusals() []Refusal {
	return []Refusal{
		{Env: "staging", Reasons: []Reason{ReasonApprovals(2, 1), ReasonChangesRequested("carol"),
			ReasonStaleApproval("dave", olderHead), ReasonCheckFailed("ci/test", "failure"), ReasonCheckMissing("lint")}},
		{Env: "qa", Reasons: []Reason{ReasonLocked("qa", 12)}},
		{Env: "prod", Reasons: []Reason{ReasonDeploysOnMerge("prod", ApplyOnMerge)}},
		{Env: "typo", Reasons: []Reason{ReasonUnknownEnv([]string{"staging", "qa", "prod"})}},
	}
}

func TestGoldenApplyReplies(t *testing.T) {
	for name, body := range map[string]string{
		"reply-apply-refused": ApplyRefusedReply("bob", refusals()),
		"reply-apply-closed":  ApplyRefusedReply("bob", []Refusal{{Reasons: []Reason{ReasonClosed()}}}),
		"reply-unlock": UnlockReply(42, []UnlockResult{{Env: "staging", Held: true, Holder: 42},
			{Env: "qa", Held: true, Holder: 12}, {Env: "prod"}}),
		"reply-unlock-refused": UnlockRefusedReply("mallory", []Refusal{{Env: "staging", Reasons: []Reason{ReasonNotAllowed(nil)}}}),
		"comment-not-deployed": NotDeployedComment(mergeSHA, []Refusal{
			{Env: "staging", Reasons: []Reason{ReasonApprovals(1, 0)}},
			{Env: "prod", Reasons: []Reason{ReasonAfterNotDeployed("staging")}}}),
	} {
		t.Run(name, func(t *testing.T) {
			checkMarkdown(t, name, body, MaxCommentChars)
			golden(t, name, []string{body})
		})
	}
}

func TestApplyRefusedReply(t *testing.T) {
	body := ApplyRefusedReply("bob", refusals())
	for _, want := range []string{
		"@\u200bbob, not applied — nothing was written:\n\n",
		"- **staging**\n  - needs 2 approvals, has 1\n  - changes requested by @\u200bcarol\n" +
			"  - the approval by @\u200bdave is for an older commit (`abc1234`) whose files differ\n" +
			"  - check `ci/test` failed\n  - required check `lint` has not reported\n",
		"- **qa**: locked by #12 — `/unlock qa` on #12 (or here) releases it\n",
		"- **prod**: prod deploys on merge (`apply: on-merge`)\n",
		"- **typo**: no such environment; the environments are `staging`, `qa`, `prod`\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("reply lacks %q:\n%s", want, body)
		}
	}
	// Every reason is a list item of its environment.
	h := checkMarkdown(t, "refused", body, MaxCommentChars).html
	if n := strings.Count(h, "<li>"); n != 4+5 {
		t.Errorf("%d list items, want 4 environments and 5 nested reasons:\n%s", n, h)
	}

	// Reasons about the whole command have no environment.
	closed := ApplyRefusedReply("", []Refusal{{Reasons: []Reason{ReasonClosed(), ReasonDraft()}}})
	if closed != "Not applied — nothing was written:\n\n- the pull request is closed\n- the pull request is a draft\n\n" {
		t.Errorf("closed reply = %q", closed)
	}

	// Hundreds of failing checks: capped per environment, and the reply
	// fits a comment even for many environments.
	var checks []Reason
	for i := range 300 {
		checks = append(checks, ReasonCheckFailed(fmt.Sprintf("ci/job-%03d-%s", i, strings.Repeat("x", 150)), "failure"))
	}
	var many []Refusal
	for i := range 200 {
		many = append(many, Refusal{Env: fmt.Sprintf("env-%03d", i), Reasons: checks})
	}
	body = ApplyRefusedReply("bob", many)
	checkMarkdown(t, "many refusals", body, MaxCommentChars)
	if !strings.Contains(body, "  - …and 280 more\n") || !strings.Contains(body, "did not fit in a comment") {
		t.Errorf("long reply not capped or not marked as cut; ends:\n%s", body[len(body)-400:])
	}
}

func TestUnlockReply(t *testing.T) {
	body := UnlockReply(42, []UnlockResult{{Env: "staging", Held: true, Holder: 42}, {Env: "qa", Held: true, Holder: 12}, {Env: "prod"}})
	for _, want := range []string{
		"- Unlocked **staging** (held by this pull request).\n",
		"- Unlocked **qa** (held by #12, which has to `/apply` again to take it back).\n",
		"- **prod** was not locked.\n",
		"An unlocked environment can be applied by any pull request's `/apply`; the first takes the lock.",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("unlock reply lacks %q:\n%s", want, body)
		}
	}
	if got := UnlockReply(42, []UnlockResult{{Env: "prod"}}); got != "- **prod** was not locked.\n" {
		t.Errorf("nothing released: %q", got)
	}
	if got := UnlockReply(42, nil); got != "This pull request holds no locks: nothing to unlock.\n" {
		t.Errorf("no locks: %q", got)
	}
	refused := UnlockRefusedReply("mallory", []Refusal{{Env: "staging", Reasons: []Reason{ReasonNotAllowed(nil)}}})
	if refused != "@\u200bmallory, not unlocked:\n\n- **staging**: applying needs write, maintain or admin permission on the repository\n\n" {
		t.Errorf("unlock refused = %q", refused)
	}
}

func TestNotDeployedComment(t *testing.T) {
	body := NotDeployedComment(mergeSHA, []Refusal{
		{Env: "staging", Reasons: []Reason{ReasonAfterFailed("dev")}},
		{Env: "prod", Reasons: []Reason{ReasonApprovals(1, 0), ReasonNoPullRequest()}},
	})
	checkMarkdown(t, "not deployed", body, MaxCommentChars)
	for _, want := range []string{
		"## ⏸️ Not deployed at `9e8d7c6`\n\n",
		"- **staging**: dev failed\n",
		"- **prod**\n  - needs 1 approval, has 0\n  - the pushed commit belongs to no pull request",
		"comment `/apply <environment>` here once they are: it deploys the default branch head.",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("not-deployed comment lacks %q:\n%s", want, body)
		}
	}
}

// takeoverChange is an update that takes Deployment apps/name over from
// another environment's ApplySet.
func takeoverChange(name string) planner.Change {
	return planner.Change{
		Ref:    planner.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "apps", Name: name},
		Action: planner.ActionUpdate,
		Danger: "takes the object over from environment prod of acme/infra",
	}
}
