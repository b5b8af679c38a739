package kube

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Annotations of an environment's pin, kept on the ApplySet parent so that
// every replica and every write path (merge deploy, /apply, self-heal,
// resync) sees it: a break-glass rollback pins the environment at the
// commit it rolled back to, and nothing writes to it until it is unpinned.
// Like the drift annotations they have their own field manager and are not
// part of the inventory an apply writes, so an apply never erases them.
const (
	annotationPinPrefix = "tugboat.dev/pin-"
	AnnotationPinCommit = annotationPinPrefix + "commit"
	AnnotationPinBy     = annotationPinPrefix + "by"
	AnnotationPinTime   = annotationPinPrefix + "time"
	AnnotationPinRevert = annotationPinPrefix + "revert-pr"
	AnnotationPinReason = annotationPinPrefix + "reason"
	// PinFieldManager owns the pin annotations.
	PinFieldManager = "tugboat-pin"
)

// Pin is an environment held at a commit by a break-glass rollback.
type Pin struct {
	// Commit is the commit the environment is pinned at.
	Commit string
	// By is who pinned it.
	By   string
	Time time.Time
	// RevertPR is the revert pull request whose merge unpins (0: none).
	RevertPR int
	// Reason is a one-line note (secret-free), like "rollback --now".
	Reason string
}

// IsPinAnnotation reports whether key is one of the pin annotations, which
// the apply's inventory leaves alone.
func IsPinAnnotation(key string) bool { return strings.HasPrefix(key, annotationPinPrefix) }

// PinFrom reads the pin out of a parent's annotations: nil when the
// environment is not pinned.
func PinFrom(ann map[string]string) *Pin {
	if ann[AnnotationPinCommit] == "" {
		return nil
	}
	p := &Pin{Commit: ann[AnnotationPinCommit], By: ann[AnnotationPinBy], Reason: ann[AnnotationPinReason]}
	p.RevertPR, _ = strconv.Atoi(ann[AnnotationPinRevert])
	p.Time, _ = time.Parse(time.RFC3339, ann[AnnotationPinTime])
	return p
}

// ReadPin reads set's pin: nil when not pinned or never applied.
func ReadPin(ctx context.Context, c *Cluster, set ApplySet) (*Pin, error) {
	parent, err := readParent(ctx, c, set)
	if err != nil || parent == nil {
		return nil, err
	}
	return PinFrom(parent.GetAnnotations()), nil
}

// SetPin pins set with a server-side apply of the pin annotations alone
// (field manager PinFieldManager). The environment must have been applied
// (a parent exists): a rollback re-applies before it pins.
func SetPin(ctx context.Context, c *Cluster, set ApplySet, p Pin) error {
	if p.Commit == "" {
		return fmt.Errorf("pin %s: no commit", set.ParentName())
	}
	if p.Time.IsZero() {
		p.Time = time.Now()
	}
	reason := p.Reason
	if len(reason) > maxRecordMessage {
		reason = reason[:maxRecordMessage]
	}
	ann := map[string]any{
		AnnotationPinCommit: capField(p.Commit),
		AnnotationPinBy:     capField(p.By),
		AnnotationPinTime:   p.Time.UTC().Format(time.RFC3339),
		AnnotationPinRevert: strconv.Itoa(p.RevertPR),
		AnnotationPinReason: reason,
	}
	return applyPin(ctx, c, set, ann, "pin")
}

// Unpin removes set's pin (nothing when it is not pinned): the pin
// manager applies no pin annotations, which removes the fields it owned.
func Unpin(ctx context.Context, c *Cluster, set ApplySet) error {
	return applyPin(ctx, c, set, map[string]any{}, "unpin")
}

func applyPin(ctx context.Context, c *Cluster, set ApplySet, ann map[string]any, verb string) error {
	parent, err := readParent(ctx, c, set)
	if err != nil {
		return fmt.Errorf("%s: %w", verb, err)
	}
	if parent == nil {
		if verb == "unpin" {
			return nil
		}
		return fmt.Errorf("pin %s/%s: the environment has never been applied", SystemNamespace, set.ParentName())
	}
	patch := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{
			"name": set.ParentName(), "namespace": SystemNamespace,
			"annotations": ann,
			// Conditional on the parent read: a parent deleted in between is
			// not recreated as a bare pin.
			"resourceVersion": parent.GetResourceVersion(),
		},
	}}
	if err := applyObjectAs(ctx, c, secretGVR, SystemNamespace, patch, PinFieldManager); err != nil {
		return fmt.Errorf("%s %s/%s: %w", verb, SystemNamespace, set.ParentName(), err)
	}
	return nil
}
