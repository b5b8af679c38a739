package planner

import "testing"

// TestAdoptIsAChange: adopting writes the membership label, so a plan that
// only adopts has changes, counts them apart, and its digest differs from
// the empty plan's (the apply writes what the digest covers).
func TestAdoptIsAChange(t *testing.T) {
	ref := ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "apps", Name: "a"}
	adopt := &Plan{Changes: []Change{{Ref: ref, Action: ActionAdopt}}}
	same := &Plan{Changes: []Change{{Ref: ref, Action: ActionUnchanged}}}
	if got := adopt.Counts(); got != (Counts{Adopt: 1}) {
		t.Errorf("counts %+v, want 1 adopt", got)
	}
	if !adopt.HasChanges() {
		t.Error("a plan that adopts says it has no changes")
	}
	if same.HasChanges() {
		t.Error("an unchanged plan says it has changes")
	}
	if computeDigest(testDigestKey, adopt.Changes, nil, nil) == computeDigest(testDigestKey, same.Changes, nil, nil) {
		t.Error("the digest does not cover adopting")
	}
}
