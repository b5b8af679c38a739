package kube

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Annotations of the last drift check, kept on the ApplySet parent beside
// the apply record so that every replica (badges, the status page, the next
// round) reads the same answer without a database. They are written by
// their own field manager and are not part of the inventory an apply
// writes, so an apply never erases them and a drift round never touches the
// apply record.
const (
	annotationDriftPrefix = "tugboat.dev/drift-"
	AnnotationDriftState  = annotationDriftPrefix + "state"
	AnnotationDriftCount  = annotationDriftPrefix + "objects"
	AnnotationDriftCommit = annotationDriftPrefix + "commit"
	AnnotationDriftTime   = annotationDriftPrefix + "time"
	AnnotationDriftIssue  = annotationDriftPrefix + "issue"
	AnnotationDriftMsg    = annotationDriftPrefix + "message"
	// DriftFieldManager owns the drift annotations.
	DriftFieldManager = "tugboat-drift"
)

// DriftState is the outcome of the last drift check of an environment.
type DriftState string

// The drift states. The zero state means never checked.
const (
	DriftInSync  DriftState = "in-sync"
	DriftDrifted DriftState = "drifted"
	// DriftUnknown: the check could not be made (cluster unreachable, the
	// recorded commit unreadable); never reported as drift.
	DriftUnknown DriftState = "unknown"
)

// DriftStatus is the result of the last drift check of an environment.
type DriftStatus struct {
	State DriftState
	// Objects is how many objects differ from the recorded commit.
	Objects int
	// Commit is the recorded commit the cluster was compared with.
	Commit string
	// Time is when the check ran.
	Time time.Time
	// Issue is the number of the GitHub issue reporting the drift (0: none).
	Issue int
	// Message is a one-line reason for DriftUnknown (secret-free).
	Message string
}

// IsDriftAnnotation reports whether key is one of the drift annotations,
// which the apply's inventory leaves alone.
func IsDriftAnnotation(key string) bool { return strings.HasPrefix(key, annotationDriftPrefix) }

// DriftFrom reads the drift status out of a parent's annotations. The zero
// DriftStatus means never checked.
func DriftFrom(ann map[string]string) DriftStatus {
	d := DriftStatus{
		State:   DriftState(ann[AnnotationDriftState]),
		Commit:  ann[AnnotationDriftCommit],
		Message: ann[AnnotationDriftMsg],
	}
	d.Objects, _ = strconv.Atoi(ann[AnnotationDriftCount])
	d.Issue, _ = strconv.Atoi(ann[AnnotationDriftIssue])
	d.Time, _ = time.Parse(time.RFC3339, ann[AnnotationDriftTime])
	return d
}

// SetDrift records the drift status of set on its parent with a server-side
// apply of the drift annotations alone (field manager DriftFieldManager).
// An environment that has no parent (never applied) is left alone: there
// is nothing to be in drift from.
func SetDrift(ctx context.Context, c *Cluster, set ApplySet, d DriftStatus) error {
	parent, err := readParent(ctx, c, set)
	if err != nil {
		return fmt.Errorf("record drift: %w", err)
	}
	if parent == nil {
		return nil
	}
	msg := d.Message
	if len(msg) > maxRecordMessage {
		msg = msg[:maxRecordMessage] + "…"
	}
	ann := map[string]any{
		AnnotationDriftState:  string(d.State),
		AnnotationDriftCount:  strconv.Itoa(d.Objects),
		AnnotationDriftCommit: d.Commit,
		AnnotationDriftTime:   d.Time.UTC().Format(time.RFC3339),
		AnnotationDriftIssue:  strconv.Itoa(d.Issue),
		AnnotationDriftMsg:    msg,
	}
	patch := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{
			"name": set.ParentName(), "namespace": SystemNamespace,
			"annotations": ann,
			// Conditional on the parent read: a parent deleted or rewritten
			// in between is not recreated or overwritten by a stale check.
			"resourceVersion": parent.GetResourceVersion(),
		},
	}}
	if err := applyObjectAs(ctx, c, secretGVR, SystemNamespace, patch, DriftFieldManager); err != nil {
		return fmt.Errorf("record drift on %s/%s: %w", SystemNamespace, set.ParentName(), err)
	}
	return nil
}
