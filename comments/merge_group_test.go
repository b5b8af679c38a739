package comments

import (
	"errors"
	"strings"
	"testing"

	"github.com/tugboatops/tugboat/planner"
)

func TestMergeGroupCheckRun(t *testing.T) {
	ref := planner.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "apps", Name: "app"}
	changed := &planner.Plan{Env: "staging", Changes: []planner.Change{{Ref: ref, Action: planner.ActionUpdate}}}
	same := &planner.Plan{Env: "staging", Changes: []planner.Change{{Ref: ref, Action: planner.ActionUnchanged}}}
	broken := &planner.Plan{Env: "staging", Problems: []planner.Problem{{Message: "bad"}}}
	cases := []struct {
		name       string
		mode       ApplyMode
		plan       *planner.Plan
		err        error
		conclusion string
		title      string
	}{
		{"applied", ApplyOnComment, same, nil, ConclusionSuccess, "Matches what was applied"},
		{"not applied", ApplyOnComment, changed, nil, ConclusionFailure, "+0 ~1 −0: differs from what was applied"},
		{"on merge", ApplyOnMerge, changed, nil, ConclusionSuccess, "+0 ~1 −0: deploys on merge"},
		{"on merge, nothing", ApplyOnMerge, same, nil, ConclusionSuccess, "No changes"},
		{"problems", ApplyOnMerge, broken, nil, ConclusionFailure, "1 problem: cannot be merged"},
		{"tugboat failed", ApplyOnMerge, nil, errors.New("cluster <b>down</b>"), ConclusionFailure, "Could not plan the merge group"},
	}
	for _, c := range cases {
		got := MergeGroupCheckRun("staging", c.mode, c.plan, c.err)
		if got.Conclusion != c.conclusion || got.Title != c.title {
			t.Errorf("%s: %s %q, want %s %q", c.name, got.Conclusion, got.Title, c.conclusion, c.title)
		}
		// Cluster text is shown only inside a code block, where it is literal.
		if c.err != nil && !strings.Contains(got.Summary, "```text\ncluster <b>down</b>\n```") {
			t.Errorf("%s: the error is not in a code block: %s", c.name, got.Summary)
		}
	}
}

func TestAutomergeReplies(t *testing.T) {
	if r := AutomergedReply(true); !strings.Contains(r, "merge queue") {
		t.Errorf("queued reply = %q", r)
	}
	if r := AutomergeWaitingReply([]Reason{ReasonCheckPending("ci/test")}); !strings.Contains(r, "`ci/test`") {
		t.Errorf("waiting reply = %q", r)
	}
	if r := AutomergeFailedReply("405 ```\nnot mergeable"); strings.Count(r, "```") < 2 || !strings.Contains(r, "not mergeable") {
		t.Errorf("failed reply = %q", r)
	}
}
