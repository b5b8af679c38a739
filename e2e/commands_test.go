package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/internal/githubtest"
)

// Check-run buttons: Re-plan and Re-run plan that environment again on the
// same commit; Apply without the approval staging requires is refused with
// a reply and no re-plan.
func TestCheckRunButtons(t *testing.T) {
	w := newWorld(t, options{})
	n, sha := w.openPR("buttons", map[string]string{
		"deploy/staging/app.yaml": configMap("app", "color", "green"),
		"deploy/prod/app.yaml":    configMap("app", "color", "green"),
	})
	checks := w.waitPlanned(sha, "staging", "prod")
	w.gh.RequestAction(w.repo, checks["tugboat/staging"].ID, "plan", "alice")
	w.waitFor("Re-plan to re-plan staging", 60*time.Second, func() bool {
		return w.countChecks(sha, "tugboat/staging") == 2 && w.checks(sha)["tugboat/staging"].Status == "completed"
	})
	w.gh.RerequestCheckRun(w.repo, checks["tugboat/prod"].ID, "alice")
	w.waitFor("Re-run to re-plan prod", 60*time.Second, func() bool {
		return w.countChecks(sha, "tugboat/prod") == 2 && w.checks(sha)["tugboat/prod"].Status == "completed"
	})
	w.gh.RequestAction(w.repo, w.checks(sha)["tugboat/staging"].ID, "apply", "alice")
	w.waitFor("the apply answer", 30*time.Second, func() bool {
		return strings.Contains(allBodies(w.botComments(n)), "needs 1 approval, has 0")
	})
	waitIdle(t, w)
	if got := w.countChecks(sha, "tugboat/staging"); got != 2 {
		t.Errorf("Apply re-planned staging: %d check runs", got)
	}
	if len(w.planComments(n, sha)) != 1 {
		t.Errorf("re-plans of one commit must edit its one set")
	}
}

// Commands: /help answers with the help, an unknown command near a real one
// and a bad flag with a short help reply, /apply of an on-merge environment
// says it deploys on merge, /unlock with nothing locked says so; other
// bots' slash commands and plain comments get nothing; only the first line
// counts; and @tugboat plan works.
func TestCommandReplies(t *testing.T) {
	w := newWorld(t, options{})
	n, sha := w.openPR("cmds", map[string]string{"deploy/prod/app.yaml": configMap("app", "color", "green")})
	w.waitPlanned(sha, "prod")
	cases := []struct {
		comment, want string
		accepted      bool
	}{
		{"/help", "tugboat commands", true},
		{"/plna", "did you mean", false},
		{"/apply --force", "tugboat commands", false},
		{"/apply prod", "prod deploys on merge", true},
		{"/unlock", "holds no locks", true},
	}
	for _, c := range cases {
		before := len(w.botComments(n))
		id := w.gh.Comment(w.repo, n, "alice", c.comment)
		w.waitFor("a reply to "+c.comment, 30*time.Second, func() bool { return len(w.botComments(n)) > before })
		reply := w.botComments(n)[len(w.botComments(n))-1].Body
		if !strings.Contains(reply, c.want) {
			t.Errorf("reply to %q lacks %q:\n%s", c.comment, c.want, reply)
		}
		eyes := false
		for _, r := range w.gh.Reactions(w.repo, id) {
			eyes = eyes || r.Content == "eyes"
		}
		if eyes != c.accepted {
			t.Errorf("%q: eyes reaction = %v, want %v (only accepted commands get one)", c.comment, eyes, c.accepted)
		}
	}
	before := len(w.botComments(n))
	w.gh.Comment(w.repo, n, "alice", "/lgtm")
	w.gh.Comment(w.repo, n, "alice", "Looks good.\n/plan")
	waitIdle(t, w)
	if got := len(w.botComments(n)); got != before {
		t.Errorf("comments not meant for tugboat got %d replies", got-before)
	}
	w.gh.Comment(w.repo, n, "alice", "@tugboat plan prod")
	w.waitFor("@tugboat plan prod", 60*time.Second, func() bool { return w.countChecks(sha, "tugboat/prod") == 2 })
}

// Draft PRs are planned; closing a PR minimizes its outdated plan sets —
// also those a push could not minimize at the time (here GitHub refused
// the minimizeComment mutation once), so closing is what tidies them.
func TestDraftPlannedAndCloseMinimizes(t *testing.T) {
	w := newWorld(t, options{})
	sha1 := w.gh.Commit(w.repo, "draft", map[string]string{"deploy/prod/app.yaml": configMap("app", "color", "green")}, "draft")
	n := w.gh.OpenPR(w.repo, githubtest.PROptions{Head: "draft", Author: "alice", Draft: true, Title: "wip"})
	w.waitPlanned(sha1, "prod")
	w.gh.Fault(http.MethodPost, "/graphql", githubtest.Fault{Status: http.StatusForbidden})
	sha2 := w.gh.Commit(w.repo, "draft", map[string]string{"deploy/prod/app.yaml": configMap("app", "color", "red")}, "red")
	w.waitPlanned(sha2, "prod")
	w.waitFor("a comment set for the new commit", 30*time.Second, func() bool { return len(w.planComments(n, sha2)) == 1 })
	waitIdle(t, w)
	if left := w.gh.FaultsLeft(); left != 0 {
		t.Fatalf("the push never tried to minimize the outdated set (%d faults left)", left)
	}
	if c := w.planComments(n, sha1); len(c) != 1 || c[0].Minimized != "" {
		t.Fatalf("the outdated set should still be visible after the failed minimize: %+v", c)
	}
	w.gh.ClosePR(w.repo, n, "alice")
	waitIdle(t, w)
	if c := w.planComments(n, sha1); len(c) != 1 || c[0].Minimized != "OUTDATED" {
		t.Errorf("closing did not minimize the outdated set: %+v", c)
	}
	if c := w.planComments(n, sha2); len(c) != 1 || c[0].Minimized != "" {
		t.Errorf("the latest set should stay visible: %+v", c)
	}
}

// Repositories outside allowed_repositories are ignored entirely.
func TestRepositoryNotAllowedIgnored(t *testing.T) {
	w := newWorld(t, options{extraConfig: "allowed_repositories: [acme/other]\n"})
	n, sha := w.openPR("ignored", map[string]string{"deploy/prod/app.yaml": configMap("app", "color", "green")})
	w.gh.Comment(w.repo, n, "alice", "/plan")
	waitIdle(t, w)
	if len(w.botComments(n)) != 0 || len(w.gh.CheckRuns(w.repo, sha)) != 0 {
		t.Errorf("a repository not allowed was served")
	}
}

// With allow_fork_plans, fork PRs are planned like any other.
func TestAllowForkPlans(t *testing.T) {
	w := newWorld(t, options{extraConfig: "allow_fork_plans: true\n"})
	fork := w.gh.Fork(w.repo, "mallory")
	sha := w.gh.Commit(fork, "f", map[string]string{"deploy/prod/app.yaml": configMap("app", "color", "fork")}, "fork")
	w.gh.OpenPR(w.repo, githubtest.PROptions{Head: "f", HeadRepo: fork, Author: "mallory"})
	if c := w.waitPlanned(sha, "prod")["tugboat/prod"]; c.ExternalID == "" || c.Conclusion == "failure" {
		t.Errorf("prod = %s %q, want the fork's change planned", c.Conclusion, c.Title)
	}
}
