package planner

import (
	"encoding/base64"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// lastAppliedAnnotation is client-side apply's copy of the whole object:
// noise in a diff, and for a Secret a copy of its values.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// normalizeForDiff strips, in place, what the API server maintains and a
// reviewer does not decide: managedFields, resourceVersion, uid, generation,
// creationTimestamp, status and the last-applied annotation. Live objects
// and dry-run results both go through it before they are compared.
func normalizeForDiff(obj map[string]any) {
	delete(obj, "status")
	md, ok := obj["metadata"].(map[string]any)
	if !ok {
		return
	}
	for _, k := range []string{"managedFields", "resourceVersion", "uid", "generation", "creationTimestamp", "selfLink"} {
		delete(md, k)
	}
	if ann, ok := md["annotations"].(map[string]any); ok {
		delete(ann, lastAppliedAnnotation)
		if len(ann) == 0 {
			delete(md, "annotations")
		}
	}
}

// PrepareForApply returns the object tugboat sends, for a dry-run or for
// real: a copy of the rendered object with the ApplySet member labels added,
// status dropped (a client cannot set it through the main resource),
// a Secret's stringData folded into data, a last-applied annotation of the
// manifest's own dropped, and the ignore rules' paths removed, so
// controller-owned fields are left to their controllers. The applier calls
// it too: the plan must dry-run exactly what the apply sends.
//
// What is sent is what the plan shows and digests (DESIGN.md decisions 1
// and 7): the diff never shows the last-applied annotation or an ignored
// field, so neither may reach the cluster — not even on a create, where an
// ignored replicas: 500 would otherwise start 500 pods nobody reviewed.
func PrepareForApply(obj *unstructured.Unstructured, memberLabels map[string]string, ignorePaths []string) *unstructured.Unstructured {
	out, _ := prepare(obj, memberLabels, ignorePaths)
	return out
}

// prepare is PrepareForApply that also returns the ignore rules' paths that
// held a value in the rendered object (and so were left out), in the rules'
// order.
func prepare(obj *unstructured.Unstructured, memberLabels map[string]string, ignorePaths []string) (*unstructured.Unstructured, []string) {
	out := obj.DeepCopy()
	labels := out.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	for k, v := range memberLabels {
		labels[k] = v
	}
	out.SetLabels(labels)
	delete(out.Object, "status")
	if ann := out.GetAnnotations(); ann != nil {
		if _, ok := ann[lastAppliedAnnotation]; ok {
			delete(ann, lastAppliedAnnotation)
			if len(ann) == 0 {
				ann = nil // removes the field rather than sending an empty map
			}
			out.SetAnnotations(ann)
		}
	}
	if isSecret(out) {
		foldStringData(out.Object)
	}
	leftOut := removePaths(out.Object, ignorePaths)
	return out, leftOut
}

// foldStringData moves a Secret's stringData into data (base64), the way
// the API server stores it. Applying data keeps field ownership on the keys
// the server actually has, so removing a key from the repository removes it
// from the cluster (kubernetes#108008).
func foldStringData(obj map[string]any) {
	sd, ok := obj["stringData"].(map[string]any)
	if !ok {
		delete(obj, "stringData")
		return
	}
	data, ok := obj["data"].(map[string]any)
	if !ok {
		data = map[string]any{}
	}
	for k, v := range sd {
		s, _ := v.(string)
		data[k] = base64.StdEncoding.EncodeToString([]byte(s))
	}
	obj["data"] = data
	delete(obj, "stringData")
}

func isSecret(obj *unstructured.Unstructured) bool {
	gvk := obj.GroupVersionKind()
	return gvk.Group == "" && gvk.Kind == "Secret"
}

func unstructuredString(obj map[string]any, fields ...string) (string, bool, error) {
	return unstructured.NestedString(obj, fields...)
}
