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
