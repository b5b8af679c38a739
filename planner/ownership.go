package planner

import (
	"context"
	"fmt"
	"reflect"
	"sync"

	"github.com/tugboatops/tugboat/kube"
)

// ownershipChange tells what an update (live and planned normalized, and
// different) does to who owns the object. adopt: the only difference is
// tugboat's ApplySet membership label, on an object no ApplySet owns (made
// by kubectl apply or another tool) — a plan shows that as one line, not
// a diff that buries the real changes. other: the id of another ApplySet
// (another repository or environment) that owns the object, which
// applying takes over: dangerous, never quiet, whatever else changes.
func ownershipChange(live, planned map[string]any, member map[string]string) (adopt bool, other string) {
	owner := labelOf(live, kube.LabelApplySetPartOf)
	switch {
	case owner == "":
		return reflect.DeepEqual(withoutLabels(live, member), withoutLabels(planned, member)), ""
	case owner != member[kube.LabelApplySetPartOf]:
		return false, owner
	}
	return false, ""
}

// takeoverDanger is the danger of taking an object over from the ApplySet
// other, which is the tugboat set theirs when known.
func takeoverDanger(other string, theirs kube.ApplySet, known bool) string {
	if !known {
		return "takes the object over from another ApplySet (" + other + "): another repository, environment " +
			"or tool manages it, and the two will keep overwriting each other"
	}
	return fmt.Sprintf("takes the object over from environment %s of %s (ApplySet %s): that environment manages it, "+
		"and the two will keep overwriting each other", theirs.Env, theirs.Repo, other)
}

// owners names the ApplySets objects are taken over from, once per set
// and plan.
type owners struct {
	c     *kube.Cluster
	mu    sync.Mutex
	found map[string]ownerName
}

type ownerName struct {
	set   kube.ApplySet
	known bool
}

// danger is takeoverDanger for the set other, looked up in the cluster; a
// failed look-up leaves the set unnamed (the id still says which it is).
func (o *owners) danger(ctx context.Context, other string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	n, ok := o.found[other]
	if !ok {
		set, known, err := kube.FindApplySet(ctx, o.c, other)
		n = ownerName{set: set, known: known && err == nil}
		if o.found == nil {
			o.found = map[string]ownerName{}
		}
		o.found[other] = n
	}
	return takeoverDanger(other, n.set, n.known)
}

// labelOf returns one label of an unstructured object's content.
func labelOf(obj map[string]any, key string) string {
	md, _ := obj["metadata"].(map[string]any)
	labels, _ := md["labels"].(map[string]any)
	v, _ := labels[key].(string)
	return v
}

// withoutLabels returns obj without the given label keys, for comparison
// only: it copies just the maps on the way to the labels and shares the
// rest with obj. Labels left empty are dropped, as the API server does.
func withoutLabels(obj map[string]any, keys map[string]string) map[string]any {
	md, ok := obj["metadata"].(map[string]any)
	if !ok {
		return obj
	}
	labels, _ := md["labels"].(map[string]any)
	kept := make(map[string]any, len(labels))
	for k, v := range labels {
		if _, drop := keys[k]; !drop {
			kept[k] = v
		}
	}
	mdCopy := make(map[string]any, len(md))
	for k, v := range md {
		mdCopy[k] = v
	}
	delete(mdCopy, "labels")
	if len(kept) > 0 {
		mdCopy["labels"] = kept
	}
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		out[k] = v
	}
	out["metadata"] = mdCopy
	return out
}
