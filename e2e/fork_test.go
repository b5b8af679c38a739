package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/internal/githubtest"
)

// A PR from a fork is not planned; the bot says how a maintainer runs a
// plan. /plan from someone without write access is refused the same way;
// a maintainer's /plan plans it.
func TestForkPRNeedsMaintainer(t *testing.T) {
	w := newWorld(t, options{})
	fork := w.gh.Fork(w.repo, "mallory")
	sha := w.gh.Commit(fork, "evil", map[string]string{"deploy/staging/app.yaml": configMap("app", "color", "fork")}, "fork change")
	n := w.gh.OpenPR(w.repo, githubtest.PROptions{Head: "evil", HeadRepo: fork, Author: "mallory", Title: "from a fork"})
	w.waitFor("the fork note", 30*time.Second, func() bool {
		return strings.Contains(allBodies(w.botComments(n)), "comes from a fork")
	})
	w.gh.Comment(w.repo, n, "mallory", "/plan")
	w.waitFor("the refusal", 30*time.Second, func() bool {
		return strings.Contains(allBodies(w.botComments(n)), "needs write access")
	})
	w.gh.WaitForDeliveries()
	if runs := w.gh.CheckRuns(w.repo, sha); len(runs) != 0 {
		t.Fatalf("fork PR planned without a maintainer: %+v", runs)
	}
	w.gh.Comment(w.repo, n, "alice", "/plan")
	checks := w.waitPlanned(sha, "staging")
	if c := checks["tugboat/staging"]; c.Conclusion != "action_required" {
		t.Errorf("maintainer's /plan: staging = %s, want action_required", c.Conclusion)
	}
	if !strings.Contains(allBodies(w.planComments(n, sha)), "fork") {
		t.Errorf("plan comment lacks the fork's change")
	}
}
