package planner

import "testing"

// Namespaces and CRDs are planned and applied first; a custom kind that
// only shares the name is not one of them.
func TestObjectRefPredicates(t *testing.T) {
	cases := []struct {
		ref            ObjectRef
		namespace, crd bool
	}{
		{ObjectRef{Version: "v1", Kind: "Namespace", Name: "apps"}, true, false},
		{ObjectRef{Group: "example.com", Version: "v1", Kind: "Namespace", Name: "apps"}, false, false},
		{ObjectRef{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition", Name: "widgets.example.com"}, false, true},
		{ObjectRef{Group: "example.com", Version: "v1", Kind: "CustomResourceDefinition", Name: "x"}, false, false},
		{ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "apps", Name: "app"}, false, false},
	}
	for _, c := range cases {
		if got := c.ref.IsNamespace(); got != c.namespace {
			t.Errorf("%s (group %q).IsNamespace() = %v", c.ref, c.ref.Group, got)
		}
		if got := c.ref.IsCRD(); got != c.crd {
			t.Errorf("%s (group %q).IsCRD() = %v", c.ref, c.ref.Group, got)
		}
	}
}

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
