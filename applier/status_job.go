package applier

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// jobStatus judges a batch/v1 Job; ok is false for anything else.
//
// Why not kstatus alone: it calls a Job Current as soon as it has started
// ("Job in progress"), so an apply of a migration Job would report
// converged before the migration ran, and a Job that then fails would never
// be reported. A Job has converged when the Job controller says Complete,
// has failed when it says Failed (with its reason: BackoffLimitExceeded,
// DeadlineExceeded, ...), and is in progress until then. A suspended Job
// (spec.suspend, as queueing controllers such as Kueue use it) is waiting
// on purpose: it counts as converged, or no apply including one could end.
func jobStatus(o *unstructured.Unstructured) (Status, string, bool) {
	if o.GetKind() != "Job" || o.GroupVersionKind().Group != "batch" {
		return "", "", false
	}
	completions, found, _ := unstructured.NestedInt64(o.Object, "spec", "completions")
	if !found {
		completions = 1
	}
	succeeded, _, _ := unstructured.NestedInt64(o.Object, "status", "succeeded")
	failed, _, _ := unstructured.NestedInt64(o.Object, "status", "failed")
	active, _, _ := unstructured.NestedInt64(o.Object, "status", "active")
	conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["status"] != "True" {
			continue
		}
		switch m["type"] {
		case "Complete":
			return StatusCurrent, fmt.Sprintf("Job completed: succeeded: %d/%d", succeeded, completions), true
		case "Failed":
			return StatusFailed, fmt.Sprintf("Job failed: %v: %v (succeeded: %d/%d, failed pods: %d)",
				m["reason"], m["message"], succeeded, completions, failed), true
		}
	}
	if suspended, _, _ := unstructured.NestedBool(o.Object, "spec", "suspend"); suspended {
		return StatusCurrent, "Job suspended", true
	}
	return StatusInProgress, fmt.Sprintf("Job running: succeeded: %d/%d, active: %d, failed pods: %d", succeeded, completions, active, failed), true
}
