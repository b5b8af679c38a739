package kube

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
)

// The ConfigMap of handled webhook delivery ids, in the home namespace.
const (
	DeliveryRingName = "tugboat-deliveries"
	// DefaultDeliveryRingSize is how many ids the ring keeps: about 180 kB
	// of GitHub's 36-character GUIDs, far below a ConfigMap's 1 MiB, and
	// days of deliveries for most installations — the window within which
	// a replayed or repeated delivery is recognised.
	DefaultDeliveryRingSize = 5000
	deliveryRingKey         = "ids"
)

// ringBackoff retries conflicting ring updates: every replica adds to the
// one ConfigMap, so under a burst of webhooks conflicts are expected.
var ringBackoff = wait.Backoff{Steps: 20, Duration: 10 * time.Millisecond, Factor: 1.5, Jitter: 1, Cap: time.Second}

var configMapGVR = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

// DeliveryRing records the ids of handled webhook deliveries for every
// replica and across restarts: a ring of the last Size ids in one
// ConfigMap of the home namespace, written with conditional updates
// (resourceVersion), so concurrent writers retry rather than overwrite.
//
// Why a ConfigMap ring rather than an object per delivery (a create that
// fails with AlreadyExists is an atomic test-and-set): objects per delivery
// need a collector to ever go away and cost an object per webhook in etcd,
// while the ring is bounded by construction, is one GET to check, and is
// readable with kubectl. The check-then-add race between two replicas is
// closed by the per-PR Lease the webhook queue holds around both (one
// delivery always has one key). Ids drop out of the ring oldest first, so
// a manual redelivery of an id older than the window is handled again —
// which is what a maintainer asking for it wants; a failed delivery is
// never added, so its redelivery always runs.
type DeliveryRing struct {
	Cluster   *Cluster
	Namespace string
	// Size defaults to DefaultDeliveryRingSize.
	Size int

	// mu guards the ids waiting for the next write (see Add).
	mu      sync.Mutex
	pending []string
	waiting []chan error
	writing bool
}

func (r *DeliveryRing) size() int {
	if r.Size <= 0 {
		return DefaultDeliveryRingSize
	}
	return r.Size
}

func (r *DeliveryRing) read(ctx context.Context) (*unstructured.Unstructured, []string, error) {
	obj, err := r.Cluster.Dynamic.Resource(configMapGVR).Namespace(r.Namespace).Get(ctx, DeliveryRingName, metav1.GetOptions{})
	if err != nil {
		return nil, nil, err
	}
	data, _, _ := unstructured.NestedString(obj.Object, "data", deliveryRingKey)
	return obj, strings.Fields(data), nil
}

// Seen reports whether delivery id is in the ring.
func (r *DeliveryRing) Seen(ctx context.Context, id string) (bool, error) {
	_, ids, err := r.read(ctx)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read delivery ring %s/%s: %w", r.Namespace, DeliveryRingName, err)
	}
	return slices.Contains(ids, id), nil
}

// Add puts delivery id into the ring (newest last), dropping the oldest
// beyond Size, and returns once it is written. The ConfigMap (and the
// namespace) is created on first use.
//
// Adds of one process are committed as a group: while one write is in
// flight, the ids added meanwhile wait and go into the next write
// together. Every replica adds to the one ConfigMap, so under a burst of
// webhooks one write per delivery meant a read and a rewrite of the whole
// ring (up to 180 kB) per delivery, each likely to conflict with another
// replica's and be retried: load on the home cluster and on this process's
// CPU, which the webhooks' acknowledgements share. Batched, a burst costs a
// write per round trip rather than per delivery, and nothing is weaker:
// Add still returns only once its id is stored, so the caller (the queue,
// under the pull request's Lease) releases the Lease only after any other
// replica can see the id.
func (r *DeliveryRing) Add(ctx context.Context, id string) error {
	if id == "" || strings.ContainsAny(id, " \t\n") {
		return fmt.Errorf("add to delivery ring: invalid delivery id %q", id)
	}
	done := make(chan error, 1)
	r.mu.Lock()
	r.pending = append(r.pending, id)
	r.waiting = append(r.waiting, done)
	if !r.writing {
		r.writing = true
		go r.writeLoop()
	}
	r.mu.Unlock()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		// The write goes on for the others waiting on it; this id may or
		// may not be stored, which at worst handles a redelivery again.
		return fmt.Errorf("add to delivery ring %s/%s: %w", r.Namespace, DeliveryRingName, context.Cause(ctx))
	}
}

// ringWriteTimeout bounds one group write, conflicts retried included: it
// serves several callers, so none of their contexts may end it.
const ringWriteTimeout = 30 * time.Second

// writeLoop writes the pending ids, a group at a time, until none are left.
func (r *DeliveryRing) writeLoop() {
	for {
		r.mu.Lock()
		ids, waiting := r.pending, r.waiting
		r.pending, r.waiting = nil, nil
		if len(ids) == 0 {
			r.writing = false
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), ringWriteTimeout)
		err := r.add(ctx, ids)
		cancel()
		for _, w := range waiting {
			w <- err
		}
	}
}

// add writes ids into the ring in one conditional update (retried on
// conflict).
func (r *DeliveryRing) add(ctx context.Context, add []string) error {
	cms := r.Cluster.Dynamic.Resource(configMapGVR).Namespace(r.Namespace)
	err := retry.RetryOnConflict(ringBackoff, func() error {
		obj, ids, err := r.read(ctx)
		if apierrors.IsNotFound(err) {
			if err := EnsureNamespace(ctx, r.Cluster, r.Namespace); err != nil {
				return err
			}
			obj = &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "v1", "kind": "ConfigMap",
				"metadata": map[string]any{"name": DeliveryRingName, "namespace": r.Namespace,
					"labels": map[string]any{"app.kubernetes.io/managed-by": FieldManager}},
				"data": map[string]any{deliveryRingKey: strings.Join(r.trim(appendNew(nil, add)), "\n") + "\n"},
			}}
			_, err = cms.Create(ctx, obj, metav1.CreateOptions{FieldManager: FieldManager})
			if apierrors.IsAlreadyExists(err) {
				// Another replica created it meanwhile: a conflict to retry.
				return apierrors.NewConflict(configMapGVR.GroupResource(), DeliveryRingName, err)
			}
			return err
		}
		if err != nil {
			return err
		}
		grown := appendNew(ids, add)
		if len(grown) == len(ids) {
			return nil
		}
		if err := unstructured.SetNestedField(obj.Object, strings.Join(r.trim(grown), "\n")+"\n", "data", deliveryRingKey); err != nil {
			return err
		}
		// obj carries the resourceVersion read: a write by another replica
		// since makes this update a conflict, retried on a fresh read.
		_, err = cms.Update(ctx, obj, metav1.UpdateOptions{FieldManager: FieldManager})
		return err
	})
	if err != nil {
		return fmt.Errorf("add to delivery ring %s/%s: %w", r.Namespace, DeliveryRingName, err)
	}
	return nil
}

// appendNew appends the ids of add that ids lacks (each once), in order.
func appendNew(ids, add []string) []string {
	for _, id := range add {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// trim keeps the newest Size ids.
func (r *DeliveryRing) trim(ids []string) []string {
	if n := r.size(); len(ids) > n {
		return ids[len(ids)-n:]
	}
	return ids
}
