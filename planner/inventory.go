package planner

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tugboatops/tugboat/kube"
)

// planDeletes finds the ApplySet's members that are no longer rendered and
// plans their deletion. Only called for environments with prune: true.
func (p *Planner) planDeletes(ctx context.Context, c *kube.Cluster, set kube.ApplySet, rendered map[objectKey]bool, base baseIndex, red *Redactor) ([]Change, error) {
	inv, err := kube.ReadInventory(ctx, c, set)
	if err != nil {
		return nil, err
	}
	members, err := kube.ListMembers(ctx, c, set, inv)
	if err != nil {
		return nil, err
	}
	var changes []Change
	seen := map[objectKey]bool{}
	danger := newDangers(c)
	for i := range members {
		m := &members[i]
		ref := refOf(m)
		key := keyOf(ref)
		if rendered[key] || seen[key] || m.GetAnnotations()[AnnotationPrune] == PruneDisabled {
			continue
		}
		seen[key] = true
		why := danger.ofDelete(ctx, m)
		live := m.Object
		normalizeForDiff(live)
		if isSecret(m) {
			red.addSecret(ref, live)
			maskSecretPair(live, nil)
		}
		diff, err := unifiedDiff(live, nil)
		if err != nil {
			return nil, fmt.Errorf("diff delete of %s: %w", ref, err)
		}
		changes = append(changes, Change{
			Ref:    ref,
			Action: ActionDelete,
			Diff:   diff,
			FromPR: base.fromPR(key, nil),
			Danger: why,
		})
	}
	return changes, nil
}

// refOf names an object.
func refOf(obj *unstructured.Unstructured) ObjectRef {
	gvk := obj.GroupVersionKind()
	return ObjectRef{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
}
