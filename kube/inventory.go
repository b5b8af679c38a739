package kube

import (
	"context"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

var (
	secretGVR    = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	namespaceGVR = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
)

// Inventory is what an ApplySet's parent records (KEP-3659): the kinds of
// its members and the namespaces they live in besides the parent's own.
// Annotations carries the parent's other annotations (the applier's record
// of the last apply); the ApplySet keys themselves are not repeated there.
type Inventory struct {
	GroupKinds  []schema.GroupKind
	Namespaces  []string
	Annotations map[string]string
}

// FormatGroupKinds renders kinds as the contains-group-kinds annotation
// wants them: sorted, comma-separated "Kind.group", core kinds as "Kind".
func FormatGroupKinds(gks []schema.GroupKind) string {
	s := make([]string, 0, len(gks))
	seen := map[string]bool{}
	for _, gk := range gks {
		v := gk.String()
		if !seen[v] {
			seen[v] = true
			s = append(s, v)
		}
	}
	sort.Strings(s)
	return strings.Join(s, ",")
}

// ParseGroupKinds is the inverse of FormatGroupKinds.
func ParseGroupKinds(s string) []schema.GroupKind {
	var gks []schema.GroupKind
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		gks = append(gks, schema.ParseGroupKind(part))
	}
	return gks
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	sort.Strings(out)
	return out
}

// parentWriteAttempts bounds the retries of a parent write that lost a
// race with another writer (the parent changed between read and write).
const parentWriteAttempts = 5

// ReadInventory reads the ApplySet's parent Secret. It returns nil and no
// error when the set has never been applied, and an *OwnerError when the
// parent records another repository or environment.
func ReadInventory(ctx context.Context, c *Cluster, set ApplySet) (*Inventory, error) {
	parent, err := readParent(ctx, c, set)
	if err != nil || parent == nil {
		return nil, err
	}
	return inventoryFromParent(parent), nil
}

// readParent reads the ApplySet's parent (nil when there is none) and
// checks that it is the set's.
func readParent(ctx context.Context, c *Cluster, set ApplySet) (*unstructured.Unstructured, error) {
	parent, err := c.Dynamic.Resource(secretGVR).Namespace(SystemNamespace).Get(ctx, set.ParentName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read inventory %s/%s: %w", SystemNamespace, set.ParentName(), err)
	}
	if got := parent.GetLabels()[LabelApplySetID]; got != set.ID() {
		return nil, fmt.Errorf("read inventory %s/%s: label %s is %q, want %q", SystemNamespace, set.ParentName(), LabelApplySetID, got, set.ID())
	}
	if err := checkOwner(parent, set); err != nil {
		return nil, err
	}
	return parent, nil
}

func inventoryFromParent(parent *unstructured.Unstructured) *Inventory {
	ann := parent.GetAnnotations()
	inv := &Inventory{
		GroupKinds:  ParseGroupKinds(ann[AnnotationContainsGroupKinds]),
		Namespaces:  splitList(ann[AnnotationAdditionalNamespace]),
		Annotations: map[string]string{},
	}
	for k, v := range ann {
		if IsDriftAnnotation(k) || IsPinAnnotation(k) {
			continue // owned by the drift check and the pin, see SetDrift and SetPin
		}
		switch k {
		case AnnotationContainsGroupKinds, AnnotationAdditionalNamespace, AnnotationApplySetTooling,
			AnnotationRepository, AnnotationEnvironment:
		default:
			inv.Annotations[k] = v
		}
	}
	return inv
}

// WriteInventory creates or updates the ApplySet's parent Secret (and
// SystemNamespace if missing) with a server-side apply. The Secret holds no
// data: everything is in its labels and annotations, the repository and
// environment it belongs to included. A parent that records another owner
// is refused with an *OwnerError and left as it is; the write is
// conditional on the parent it checked, so an owner recorded in between is
// never overwritten.
func WriteInventory(ctx context.Context, c *Cluster, set ApplySet, inv Inventory) error {
	if err := ensureSystemNamespace(ctx, c); err != nil {
		return fmt.Errorf("write inventory: %w", err)
	}
	for range parentWriteAttempts {
		parent, err := readParent(ctx, c, set)
		if err != nil {
			return fmt.Errorf("write inventory: %w", err)
		}
		rv := ""
		if parent != nil {
			rv = parent.GetResourceVersion()
		}
		err = writeParent(ctx, c, set, inv, rv)
		if err == nil {
			return nil
		}
		if !apierrors.IsConflict(err) {
			return fmt.Errorf("write inventory %s/%s: %w", SystemNamespace, set.ParentName(), err)
		}
	}
	return fmt.Errorf("write inventory %s/%s: the parent kept changing; gave up after %d attempts", SystemNamespace, set.ParentName(), parentWriteAttempts)
}

// writeParent applies the parent. A non-empty resourceVersion makes the
// apply conditional: it fails with a Conflict if the parent changed since.
func writeParent(ctx context.Context, c *Cluster, set ApplySet, inv Inventory, resourceVersion string) error {
	ann := map[string]any{}
	for k, v := range inv.Annotations {
		ann[k] = v
	}
	ann[AnnotationApplySetTooling] = ApplySetTooling
	ann[AnnotationContainsGroupKinds] = FormatGroupKinds(inv.GroupKinds)
	nss := append([]string(nil), inv.Namespaces...)
	sort.Strings(nss)
	ann[AnnotationAdditionalNamespace] = strings.Join(nss, ",")
	ann[AnnotationRepository] = set.Repo
	ann[AnnotationEnvironment] = set.Env
	metadata := map[string]any{
		"name":        set.ParentName(),
		"namespace":   SystemNamespace,
		"labels":      map[string]any{LabelApplySetID: set.ID()},
		"annotations": ann,
	}
	if resourceVersion != "" {
		metadata["resourceVersion"] = resourceVersion
	}
	parent := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata": metadata,
	}}
	return applyObject(ctx, c, secretGVR, SystemNamespace, parent)
}

func applyObject(ctx context.Context, c *Cluster, gvr schema.GroupVersionResource, ns string, obj *unstructured.Unstructured) error {
	return applyObjectAs(ctx, c, gvr, ns, obj, FieldManager)
}

// applyObjectAs is a forced server-side apply of obj by manager.
func applyObjectAs(ctx context.Context, c *Cluster, gvr schema.GroupVersionResource, ns string, obj *unstructured.Unstructured, manager string) error {
	body, err := obj.MarshalJSON()
	if err != nil {
		return err
	}
	force := true
	_, err = c.Dynamic.Resource(gvr).Namespace(ns).Patch(ctx, obj.GetName(), types.ApplyPatchType, body,
		metav1.PatchOptions{FieldManager: manager, Force: &force})
	return err
}

// ListMembers lists every object labelled as a member of set, across the
// kinds and namespaces inv records (the parent's namespace included, as
// KEP-3659 says). Kinds the cluster no longer serves are skipped: their
// objects are gone with their CRD.
func ListMembers(ctx context.Context, c *Cluster, set ApplySet, inv *Inventory) ([]unstructured.Unstructured, error) {
	if inv == nil {
		return nil, nil
	}
	selector := LabelApplySetPartOf + "=" + set.ID()
	namespaces := append([]string{SystemNamespace}, inv.Namespaces...)
	var members []unstructured.Unstructured
	for _, gk := range inv.GroupKinds {
		m, err := c.RESTMapping(gk, "")
		if meta.IsNoMatchError(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list members of %s: map %s: %w", set.ID(), gk, err)
		}
		scopes := []string{""}
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			scopes = namespaces
		}
		for _, ns := range scopes {
			list, err := c.Dynamic.Resource(m.Resource).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("list members of %s: %s in %q: %w", set.ID(), gk, ns, err)
			}
			members = append(members, list.Items...)
		}
	}
	return members, nil
}
