package ops

import (
	"strings"
	"testing"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/kube"
)

// A PR's plan run for a pinned on-merge environment says that merging
// will not deploy it, keeping its conclusion (a pin blocks no merge); the
// revert PR's run says merging unpins; an on-comment environment's run is
// left to /apply's refusal; unpinned, the note is gone.
func TestPlanRunOfPinnedOnMergeEnvironment(t *testing.T) {
	w := newWorld(t)
	const pinned = "4f2a9c1d00000000000000000000000000000000"
	pin := func(revert int) {
		for _, env := range []string{"staging", "prod"} {
			if err := w.state.SetPin(w.ctx(), envNamed(env), testRepo, kube.Pin{Commit: pinned, By: "alice", RevertPR: revert}); err != nil {
				t.Fatal(err)
			}
		}
	}
	pin(0)
	n := w.openPR("release", "web:2.0")
	prod := latestRun(w.gh.CheckRuns(testRepo, w.head(n)), "tugboat/prod")
	if prod == nil || prod.Conclusion != comments.ConclusionActionRequired ||
		prod.Title != "pinned at 4f2a9c1 by alice: merging will not deploy it; needs 1 approval, has 0" ||
		!strings.HasPrefix(prod.Summary, "**Merging will not deploy `prod`:** `prod` is pinned at `4f2a9c1` by @\u200balice (break-glass rollback); `/unpin prod` lets deploys go on.") {
		t.Fatalf("prod's run while pinned: %+v", prod)
	}
	if st := latestRun(w.gh.CheckRuns(testRepo, w.head(n)), "tugboat/staging"); st == nil || strings.Contains(st.Title+st.Summary, "pinned") {
		t.Errorf("on-comment staging's run names the pin: %+v", st)
	}

	// Approved: the plan succeeds, and still says merging deploys nothing.
	w.gh.Approve(testRepo, n, "carol")
	w.plan(n)
	prod = latestRun(w.gh.CheckRuns(testRepo, w.head(n)), "tugboat/prod")
	if prod.Conclusion != comments.ConclusionSuccess || !strings.HasPrefix(prod.Title, "pinned at 4f2a9c1 by alice: merging will not deploy it; ") {
		t.Errorf("approved, pinned: %s %q", prod.Conclusion, prod.Title)
	}

	// The revert PR: merging it unpins.
	revert := w.openPR("revert", "web:1.0-revert")
	pin(revert)
	w.plan(revert)
	if r := latestRun(w.gh.CheckRuns(testRepo, w.head(revert)), "tugboat/prod"); r == nil ||
		strings.Contains(r.Title, "merging will not deploy") || !strings.HasPrefix(r.Summary, "**Merging unpins `prod`:**") {
		t.Errorf("the revert PR's run: %+v", r)
	}

	// Unpinned: no note.
	for _, env := range []string{"staging", "prod"} {
		if err := w.state.Unpin(w.ctx(), envNamed(env), testRepo); err != nil {
			t.Fatal(err)
		}
	}
	w.plan(n)
	if r := latestRun(w.gh.CheckRuns(testRepo, w.head(n)), "tugboat/prod"); strings.Contains(r.Title+r.Summary, "pinned") {
		t.Errorf("unpinned, the run still names the pin: %q\n%s", r.Title, r.Summary)
	}
}
