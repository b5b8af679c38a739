// Package kube holds what tugboat needs of Kubernetes clusters: the cluster
// registry, cached discovery, environment locks and the ApplySet inventory.
package kube

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ApplySet (KEP-3659) label and annotation keys.
const (
	LabelApplySetPartOf           = "applyset.kubernetes.io/part-of"
	LabelApplySetID               = "applyset.kubernetes.io/id"
	AnnotationApplySetTooling     = "applyset.kubernetes.io/tooling"
	AnnotationContainsGroupKinds  = "applyset.kubernetes.io/contains-group-kinds"
	AnnotationAdditionalNamespace = "applyset.kubernetes.io/additional-namespaces"

	// ApplySetTooling identifies tugboat as the manager of its ApplySets.
	ApplySetTooling = "tugboat/v1"
	// SystemNamespace holds tugboat's ApplySet parents and locks.
	SystemNamespace = "tugboat-system"
	// FieldManager is the server-side apply field manager of every write.
	FieldManager = "tugboat"
)

// ApplySet identifies the inventory of one repository's environment in one
// cluster. Its parent is a Secret in SystemNamespace.
type ApplySet struct {
	Repo string // owner/name
	Env  string
}

// Hash is a short hash of repository and environment (10 hex digits, 40
// bits), so two repositories with an environment of the same name in one
// cluster get distinct parents, locks and mutexes. It names objects; it is
// not an identity: the parent records its repository and environment, and
// reading or writing it checks them (see OwnerError).
func (a ApplySet) Hash() string {
	sum := sha256.Sum256([]byte(a.Repo + "\x00" + a.Env))
	return hex.EncodeToString(sum[:])[:10]
}

// ParentName is the name of the ApplySet's parent Secret.
func (a ApplySet) ParentName() string {
	return "tugboat-" + a.Env + "-" + a.Hash()
}

// ID is the ApplySet id as KEP-3659 defines it for a parent Secret:
// "applyset-" + base64url(sha256("<name>.<namespace>.Secret.")) + "-v1".
func (a ApplySet) ID() string {
	sum := sha256.Sum256([]byte(strings.Join([]string{a.ParentName(), SystemNamespace, "Secret", ""}, ".")))
	return "applyset-" + base64.RawURLEncoding.EncodeToString(sum[:]) + "-v1"
}

// MemberLabels are the labels tugboat adds to every object it applies. The
// planner dry-runs with exactly these labels so a plan after an apply shows
// no noise.
func (a ApplySet) MemberLabels() map[string]string {
	return map[string]string{LabelApplySetPartOf: a.ID()}
}

// FindApplySet names the tugboat ApplySet whose id is id, from its parent
// in SystemNamespace; ok is false when no tugboat parent has that id (a
// set of another tool, or one whose parent is gone).
func FindApplySet(ctx context.Context, c *Cluster, id string) (set ApplySet, ok bool, err error) {
	list, err := c.Dynamic.Resource(secretGVR).Namespace(SystemNamespace).List(ctx, metav1.ListOptions{LabelSelector: LabelApplySetID + "=" + id})
	if apierrors.IsNotFound(err) {
		return ApplySet{}, false, nil
	}
	if err != nil {
		return ApplySet{}, false, fmt.Errorf("find ApplySet %s in cluster %s: %w", id, c.Name, err)
	}
	for i := range list.Items {
		parent := &list.Items[i]
		ann := parent.GetAnnotations()
		set := ApplySet{Repo: ann[AnnotationRepository], Env: ann[AnnotationEnvironment]}
		if ann[AnnotationApplySetTooling] == ApplySetTooling && set.Repo != "" && set.Env != "" &&
			parent.GetName() == set.ParentName() && set.ID() == id {
			return set, true, nil
		}
	}
	return ApplySet{}, false, nil
}
