package planner

import (
	"reflect"

	"github.com/tugboatops/tugboat/kube"
)

// ownershipChange tells what an update (live and planned normalized, and
// different) does to who owns the object. adopt: the only difference is
// tugboat's ApplySet membership label, on an object no ApplySet owns (made
// by kubectl apply or another tool) — a plan shows that as one line, not
// a diff that buries the real changes. danger: the object is another
// ApplySet's (another repository or environment), which applying takes
// over; never quietly, whatever else changes.
func ownershipChange(live, planned map[string]any, member map[string]string) (adopt bool, danger string) {
	owner := labelOf(live, kube.LabelApplySetPartOf)
	switch {
	case owner == "":
		return reflect.DeepEqual(withoutLabels(live, member), withoutLabels(planned, member)), ""
	case owner != member[kube.LabelApplySetPartOf]:
		return false, "takes the object over from another ApplySet (" + owner + "): another repository or " +
			"environment manages it, and the two will keep overwriting each other"
	}
	return false, ""
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
