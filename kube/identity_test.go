package kube

import (
	"context"
	"slices"
	"testing"
)

func TestWhoAmIAsksTheCluster(t *testing.T) {
	c, err := NewCluster("test", cluster.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	id, err := WhoAmI(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	// kubetest's admin token: user admin in system:masters; the API server
	// adds system:authenticated.
	if id.Username != "admin" || !slices.Contains(id.Groups, "system:masters") || !slices.Contains(id.Groups, "system:authenticated") {
		t.Errorf("WhoAmI = %+v, want admin in system:masters and system:authenticated", id)
	}
}

func TestIdentityIsSubject(t *testing.T) {
	sa := Identity{Username: "system:serviceaccount:tugboat-system:tugboat",
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:tugboat-system", "system:authenticated"}}
	for _, tc := range []struct {
		kind, name, subjectNS, bindingNS string
		want                             bool
	}{
		{"ServiceAccount", "tugboat", "tugboat-system", "apps", true},
		{"ServiceAccount", "tugboat", "", "tugboat-system", true}, // defaults to the binding's namespace
		{"ServiceAccount", "tugboat", "", "apps", false},
		{"ServiceAccount", "tugboat", "other", "", false},
		{"ServiceAccount", "default", "tugboat-system", "", false},
		{"User", "system:serviceaccount:tugboat-system:tugboat", "", "", true},
		{"User", "tugboat", "", "", false},
		{"Group", "system:serviceaccounts:tugboat-system", "", "", true},
		{"Group", "system:authenticated", "", "", true},
		{"Group", "system:masters", "", "", false},
		{"Robot", "tugboat", "tugboat-system", "", false},
	} {
		if got := sa.IsSubject(tc.kind, tc.name, tc.subjectNS, tc.bindingNS); got != tc.want {
			t.Errorf("IsSubject(%s %s, ns %q, binding in %q) = %v, want %v", tc.kind, tc.name, tc.subjectNS, tc.bindingNS, got, tc.want)
		}
	}
}
