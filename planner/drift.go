package planner

import (
	"encoding/json"
)

// objectKey identifies an object across renders and the cluster: group,
// kind, namespace and name (not version: the same object may be rendered
// in another version of its API).
type objectKey struct {
	Group, Kind, Namespace, Name string
}

func keyOf(r ObjectRef) objectKey {
	return objectKey{r.Group, r.Kind, r.Namespace, r.Name}
}

// baseIndex remembers the base branch's render, to tell changes the PR
// makes from changes that exist because the cluster drifted.
type baseIndex struct {
	present bool                 // false: no base, every change is from the PR
	objects map[objectKey][]byte // canonical JSON of each base object
}

func newBaseIndex(objs []Object) baseIndex {
	idx := baseIndex{present: true, objects: make(map[objectKey][]byte, len(objs))}
	for _, o := range objs {
		b, err := json.Marshal(o.Obj.Object) // map keys sorted: canonical
		if err != nil {
			continue
		}
		idx.objects[keyOf(refOf(o.Obj))] = b
	}
	return idx
}

// fromPR reports whether the PR changes the rendered object: it is new, or
// renders differently than on the base branch. head is nil for deletes.
func (b baseIndex) fromPR(key objectKey, head map[string]any) bool {
	if !b.present {
		return true
	}
	base, ok := b.objects[key]
	if head == nil {
		// A delete is the PR's doing if the base still renders the object;
		// otherwise the object was left behind in the cluster.
		return ok
	}
	if !ok {
		return true
	}
	h, err := json.Marshal(head)
	if err != nil {
		return true
	}
	return string(h) != string(base)
}
