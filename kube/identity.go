package kube

import (
	"context"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Identity is who a cluster's client is, as the API server sees it: the
// user its credentials authenticate as ("system:serviceaccount:NS:NAME"
// for a ServiceAccount) and the groups it is in.
type Identity struct {
	Username string
	Groups   []string
}

var selfSubjectReviewGVR = schema.GroupVersionResource{Group: "authentication.k8s.io", Version: "v1", Resource: "selfsubjectreviews"}

// WhoAmI asks the cluster who its client is (a SelfSubjectReview, which
// every authenticated user may create): the credentials' user as the API
// server resolved it, not a name from the configuration, which may be
// wrong or absent (in-cluster, a token file).
func WhoAmI(ctx context.Context, c *Cluster) (Identity, error) {
	review := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview",
	}}
	got, err := c.Dynamic.Resource(selfSubjectReviewGVR).Create(ctx, review, metav1.CreateOptions{})
	if err != nil {
		return Identity{}, fmt.Errorf("ask cluster %s who tugboat is: %w", c.Name, err)
	}
	var id Identity
	id.Username, _, _ = unstructured.NestedString(got.Object, "status", "userInfo", "username")
	id.Groups, _, _ = unstructured.NestedStringSlice(got.Object, "status", "userInfo", "groups")
	if id.Username == "" {
		return Identity{}, fmt.Errorf("ask cluster %s who tugboat is: the review names no user", c.Name)
	}
	return id, nil
}

// IsSubject reports whether an RBAC subject (kind User, Group or
// ServiceAccount) names id. namespace is the binding's, which a
// ServiceAccount subject without a namespace of its own defaults to.
func (id Identity) IsSubject(kind, name, subjectNamespace, namespace string) bool {
	switch kind {
	case "User":
		return name == id.Username
	case "Group":
		return slices.Contains(id.Groups, name)
	case "ServiceAccount":
		if subjectNamespace == "" {
			subjectNamespace = namespace
		}
		return id.Username == "system:serviceaccount:"+subjectNamespace+":"+name
	}
	return false
}

// String is the identity's user name.
func (id Identity) String() string { return strings.TrimSpace(id.Username) }
