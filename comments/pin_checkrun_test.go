package comments

import (
	"reflect"
	"strings"
	"testing"
)

// A pinned on-merge environment's plan run says merging will not deploy
// it, keeping its conclusion; the revert PR's run says merging unpins; a
// failed or empty plan is left alone.
func TestWithPin(t *testing.T) {
	p := Pin{Env: "prod", Commit: "4f2a9c1d00", By: "alice", RevertPR: 12}
	plan := CheckRun{Conclusion: ConclusionSuccess, Title: "+1 ~2 −0", Summary: "the plan"}
	got := WithPin(plan, p, 7)
	if got.Conclusion != ConclusionSuccess || got.Title != "pinned at 4f2a9c1 by alice: merging will not deploy it; +1 ~2 −0" {
		t.Errorf("other PR: %s %q", got.Conclusion, got.Title)
	}
	if want := "**Merging will not deploy `prod`:** `prod` is pinned at `4f2a9c1` by @\u200balice (break-glass rollback); merging #12 or `/unpin prod` lets deploys go on.\n\nthe plan"; got.Summary != want {
		t.Errorf("other PR summary:\n%q\nwant\n%q", got.Summary, want)
	}
	gated := WithPin(CheckRun{Conclusion: ConclusionActionRequired, Title: "needs 1 approval", Summary: "s"}, p, 7)
	if gated.Conclusion != ConclusionActionRequired || !strings.HasPrefix(gated.Title, "pinned at 4f2a9c1 by alice: merging will not deploy it; needs 1 approval") {
		t.Errorf("gated: %s %q", gated.Conclusion, gated.Title)
	}
	rev := WithPin(plan, p, 12)
	if rev.Conclusion != ConclusionSuccess || rev.Title != plan.Title ||
		rev.Summary != "**Merging unpins `prod`:** it is pinned at `4f2a9c1` by @\u200balice (break-glass rollback), and merging this pull request lifts the pin and deploys it.\n\nthe plan" {
		t.Errorf("revert PR: %s %q\n%q", rev.Conclusion, rev.Title, rev.Summary)
	}
	for _, cr := range []CheckRun{
		{Conclusion: ConclusionFailure, Title: "Plan failed", Summary: "x"},
		{Conclusion: ConclusionSuccess, Title: "No changes", Summary: "x"},
	} {
		if got := WithPin(cr, p, 7); !reflect.DeepEqual(got, cr) {
			t.Errorf("%q changed: %+v", cr.Title, got)
		}
	}
	checkMarkdown(t, "pinned run summary", got.Summary, MaxCheckRunText)
	checkMarkdown(t, "revert run summary", rev.Summary, MaxCheckRunText)
}
