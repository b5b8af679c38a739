package applier

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/planner"
)

// inventoryOf is the inventory of exactly the given objects: their kinds,
// and their namespaces other than the parent's (KEP-3659's
// additional-namespaces).
func inventoryOf(refs []planner.ObjectRef) kube.Inventory {
	gks := map[schema.GroupKind]bool{}
	nss := map[string]bool{}
	for _, r := range refs {
		gks[schema.GroupKind{Group: r.Group, Kind: r.Kind}] = true
		if r.Namespace != "" && r.Namespace != kube.SystemNamespace {
			nss[r.Namespace] = true
		}
	}
	return fromSets(gks, nss, nil)
}

func fromSets(gks map[schema.GroupKind]bool, nss map[string]bool, ann map[string]string) kube.Inventory {
	inv := kube.Inventory{Annotations: map[string]string{}}
	for gk := range gks {
		inv.GroupKinds = append(inv.GroupKinds, gk)
	}
	sort.Slice(inv.GroupKinds, func(i, j int) bool { return inv.GroupKinds[i].String() < inv.GroupKinds[j].String() })
	for ns := range nss {
		inv.Namespaces = append(inv.Namespaces, ns)
	}
	sort.Strings(inv.Namespaces)
	for k, v := range ann {
		inv.Annotations[k] = v
	}
	return inv
}

// unionInventory is old plus refs: what the parent must list while an apply
// is under way, so members created before an interruption stay findable.
func unionInventory(old *kube.Inventory, refs []planner.ObjectRef) kube.Inventory {
	n := inventoryOf(refs)
	if old == nil {
		return n
	}
	gks := map[schema.GroupKind]bool{}
	nss := map[string]bool{}
	for _, inv := range []kube.Inventory{*old, n} {
		for _, gk := range inv.GroupKinds {
			gks[gk] = true
		}
		for _, ns := range inv.Namespaces {
			nss[ns] = true
		}
	}
	return fromSets(gks, nss, old.Annotations)
}

// finalInventory is the inventory after a successful apply: the rendered
// objects' kinds and namespaces, plus those of any member that is still
// there although no longer rendered (kept by tugboat.dev/prune: disabled,
// or prune off). The parent must keep listing those, or they could no
// longer be found. Members are only listed when a kind or namespace would
// be dropped, which is rare.
func (a *run) finalInventory(ctx context.Context, working kube.Inventory, rendered []planner.ObjectRef, set kube.ApplySet) (kube.Inventory, error) {
	n := inventoryOf(rendered)
	n.Annotations = working.Annotations
	var droppedGK []schema.GroupKind
	for _, gk := range working.GroupKinds {
		if !slices.Contains(n.GroupKinds, gk) {
			droppedGK = append(droppedGK, gk)
		}
	}
	var droppedNS []string
	for _, ns := range working.Namespaces {
		if !slices.Contains(n.Namespaces, ns) {
			droppedNS = append(droppedNS, ns)
		}
	}
	if len(droppedGK) == 0 && len(droppedNS) == 0 {
		return n, nil
	}
	var left []planner.ObjectRef
	for _, probe := range []kube.Inventory{
		{GroupKinds: droppedGK, Namespaces: working.Namespaces},
		{GroupKinds: n.GroupKinds, Namespaces: droppedNS},
	} {
		if len(probe.GroupKinds) == 0 {
			continue
		}
		members, err := kube.ListMembers(ctx, a.c.cluster, set, &probe)
		if err != nil {
			return n, fmt.Errorf("list remaining members: %w", err)
		}
		for _, m := range members {
			if m.GetDeletionTimestamp() != nil {
				continue
			}
			gvk := m.GroupVersionKind()
			left = append(left, planner.ObjectRef{Group: gvk.Group, Kind: gvk.Kind, Namespace: m.GetNamespace(), Name: m.GetName()})
		}
	}
	if len(left) == 0 {
		return n, nil
	}
	u := unionInventory(&n, left)
	return u, nil
}

// sameInventory reports whether the parent already lists exactly inv's
// kinds and namespaces.
func sameInventory(old *kube.Inventory, inv kube.Inventory) bool {
	if old == nil {
		return false
	}
	a, b := kube.FormatGroupKinds(old.GroupKinds), kube.FormatGroupKinds(inv.GroupKinds)
	return a == b && slices.Equal(sorted(old.Namespaces), sorted(inv.Namespaces))
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

// recordChanged: whether an apply that wrote nothing has anything new to
// record. The time and the digest aside — a plan of no changes has a digest
// of its own, but the record's digest is that of the plan that made the
// environment what it is — so re-applying an unchanged plan writes nothing
// at all, while a new commit that changes nothing is still recorded.
func recordChanged(old *kube.Inventory, rec kube.Record) bool {
	o := kube.RecordFrom(old)
	return o.Commit != rec.Commit || o.PR != rec.PR || o.Head != rec.Head || o.Outcome != rec.Outcome || o.Message != rec.Message
}
