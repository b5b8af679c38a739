package planner

import "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

// Per-object opt-outs, as Argo CD and Flux users know them. The planner and
// the applier both honour them, so a plan never shows a write the applier
// will not make.
const (
	// AnnotationPrune set to PruneDisabled keeps tugboat from ever deleting
	// the object once it is no longer rendered.
	AnnotationPrune = "tugboat.dev/prune"
	PruneDisabled   = "disabled"
	// AnnotationApply set to ApplyIfNotPresent creates the object once and
	// never updates it (a Secret someone fills in by hand later).
	AnnotationApply   = "tugboat.dev/apply"
	ApplyIfNotPresent = "if-not-present"
)

// IsCreateOnly reports whether obj is created once and never updated.
func IsCreateOnly(obj *unstructured.Unstructured) bool {
	return obj.GetAnnotations()[AnnotationApply] == ApplyIfNotPresent
}
