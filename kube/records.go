package kube

import (
	"context"
	"fmt"
	"sort"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ApplySetRecord is one ApplySet parent found in a cluster: the repository
// and environment it belongs to, and its record of the last apply.
type ApplySetRecord struct {
	Set    ApplySet
	Record Record
	// Drift is the result of the last drift check (zero: never checked).
	Drift DriftStatus
	// Pin is the environment's pin (nil: not pinned).
	Pin *Pin
}

// ListRecords lists tugboat's ApplySet parents in SystemNamespace, sorted by
// repository and environment. A cluster tugboat never wrote to has none.
// Parents that do not name their repository and environment (written
// before tugboat recorded owners) cannot be attributed and are left out, as
// are Secrets that only look like parents (another tool's, or an id label
// that does not match the owner they record).
func ListRecords(ctx context.Context, c *Cluster) ([]ApplySetRecord, error) {
	list, err := c.Dynamic.Resource(secretGVR).Namespace(SystemNamespace).List(ctx, metav1.ListOptions{LabelSelector: LabelApplySetID})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list ApplySet parents in %s of cluster %s: %w", SystemNamespace, c.Name, err)
	}
	var out []ApplySetRecord
	for i := range list.Items {
		parent := &list.Items[i]
		ann := parent.GetAnnotations()
		set := ApplySet{Repo: ann[AnnotationRepository], Env: ann[AnnotationEnvironment]}
		if ann[AnnotationApplySetTooling] != ApplySetTooling || set.Repo == "" || set.Env == "" ||
			parent.GetName() != set.ParentName() || parent.GetLabels()[LabelApplySetID] != set.ID() {
			continue
		}
		out = append(out, ApplySetRecord{Set: set, Record: RecordFrom(inventoryFromParent(parent)), Drift: DriftFrom(ann), Pin: PinFrom(ann)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Set.Repo != out[j].Set.Repo {
			return out[i].Set.Repo < out[j].Set.Repo
		}
		return out[i].Set.Env < out[j].Set.Env
	})
	return out, nil
}

// FailInterrupted records an apply that never finished as failed, with
// message: the record must still say that apply is in progress (same commit,
// PR, head, digest, trigger and start time as started), so an apply that
// finished, or a newer one, is never overwritten. It reports whether it
// wrote. The history's in-progress entry of that apply becomes the failure.
// The write is conditional on the parent read. The caller holds the
// environment's apply mutex, so no process is writing the environment.
func FailInterrupted(ctx context.Context, c *Cluster, set ApplySet, started Record, message string) (bool, error) {
	for range parentWriteAttempts {
		parent, err := readParent(ctx, c, set)
		if err != nil {
			return false, fmt.Errorf("record interrupted apply: %w", err)
		}
		if parent == nil {
			return false, nil
		}
		inv := inventoryFromParent(parent)
		if cur := RecordFrom(inv); !sameApply(cur, started) {
			return false, nil
		}
		rec := started
		rec.Outcome, rec.Message, rec.Time = OutcomeFailed, message, time.Now()
		SetRecord(inv, rec)
		err = writeParent(ctx, c, set, *inv, parent.GetResourceVersion())
		if err == nil {
			return true, nil
		}
		if !apierrors.IsConflict(err) {
			return false, fmt.Errorf("record interrupted apply on %s/%s: %w", SystemNamespace, set.ParentName(), err)
		}
	}
	return false, fmt.Errorf("record interrupted apply on %s/%s: the parent kept changing; gave up after %d attempts", SystemNamespace, set.ParentName(), parentWriteAttempts)
}

// sameApply reports whether cur is still the in-progress record started.
func sameApply(cur, started Record) bool {
	return cur.Outcome == OutcomeInProgress && started.Outcome == OutcomeInProgress &&
		cur.Commit == started.Commit && cur.PR == started.PR && cur.Head == started.Head &&
		cur.Digest == started.Digest && cur.Trigger == started.Trigger && cur.Time.Equal(started.Time)
}
