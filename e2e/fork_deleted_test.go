package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/internal/githubtest"
)

// A PR whose fork was deleted (head.repo: null) is still a fork: when its
// author marks it ready for review, the bot plans nothing and says how a
// maintainer runs a plan; the author's /plan is refused. Untrusted content
// must not be planned because GitHub no longer names where it came from.
func TestDeletedForkIsStillAFork(t *testing.T) {
	w := newWorld(t, options{})
	fork := w.gh.Fork(w.repo, "mallory")
	sha := w.gh.Commit(fork, "evil", map[string]string{"deploy/staging/app.yaml": configMap("app", "color", "fork")}, "fork change")
	n := w.gh.OpenPR(w.repo, githubtest.PROptions{Head: "evil", HeadRepo: fork, Author: "mallory", Title: "from a fork", Draft: true})
	w.waitFor("the fork note", 30*time.Second, func() bool {
		return strings.Contains(allBodies(w.botComments(n)), "comes from a fork")
	})

	w.gh.DeleteRepo(fork)
	w.gh.ReadyForReview(w.repo, n, "mallory")
	waitIdle(t, w)
	w.gh.Comment(w.repo, n, "mallory", "/plan")
	w.waitFor("the refusal", 30*time.Second, func() bool {
		return strings.Contains(allBodies(w.botComments(n)), "needs write access")
	})
	waitIdle(t, w)

	// The deliveries did say head.repo: null — else this proves nothing.
	var sawNull bool
	for _, d := range w.gh.Deliveries() {
		if d.Event == "pull_request" && d.Action == "ready_for_review" {
			sawNull = strings.Contains(string(d.Payload), `"repo":null`)
		}
	}
	if !sawNull {
		t.Fatal("the ready_for_review delivery does not carry head.repo: null")
	}
	if runs := w.gh.CheckRuns(w.repo, sha); len(runs) != 0 {
		t.Fatalf("a PR from a deleted fork was planned: %+v", runs)
	}
	if got := len(w.planComments(n, sha)); got != 0 {
		t.Fatalf("a PR from a deleted fork got %d plan comments", got)
	}
}
