package kube

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"
)

// HeldLease is a Lease this process holds: renewed in the background until
// Release, taken over by another process only after it went unrenewed for
// a whole lease duration. The apply mutex and the per-PR Lease are both one.
//
// It is client-go's leader election on a LeaseLock: acquiring, renewing,
// taking over from a holder that stopped renewing and releasing on cancel
// are exactly what leader election does, and its timing rules (a holder
// gives up after RenewDeadline, before anyone may take over after
// LeaseDuration) are the ones that make the handover safe.
type HeldLease struct {
	namespace, name string
	c               *Cluster
	identity        string
	cancel          context.CancelFunc
	done            chan struct{} // the election loop has returned
	lost            chan struct{}
	released        atomic.Bool
}

// acquireLease blocks until it holds Lease namespace/name or ctx ends. The
// holder is identity plus a suffix unique to this acquisition: leader
// election treats a Lease naming its own identity as already held, so two
// acquisitions in one process sharing an identity would both "hold" it.
// Once acquired, ctx no longer matters: the Lease is renewed until Release.
// Errors are not prefixed with the name: callers say what the Lease is.
func acquireLease(ctx context.Context, c *Cluster, namespace, name string, labels map[string]string, identity string, opt MutexOptions) (*HeldLease, error) {
	opt = opt.withDefaults()
	if identity == "" {
		return nil, errors.New("no identity given")
	}
	if opt.LeaseDuration%time.Second != 0 {
		return nil, fmt.Errorf("lease duration %s is not whole seconds", opt.LeaseDuration)
	}
	h := &HeldLease{
		namespace: namespace, name: name, c: c,
		identity: identity + "/" + randomHex(4),
		done:     make(chan struct{}),
		lost:     make(chan struct{}),
	}
	acquired := make(chan struct{})
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: &resourcelock.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Name: name, Namespace: namespace},
			Client:     c.Coordination,
			LockConfig: resourcelock.ResourceLockConfig{Identity: h.identity},
			Labels:     labels,
		},
		LeaseDuration:   opt.LeaseDuration,
		RenewDeadline:   opt.RenewDeadline,
		RetryPeriod:     opt.RetryPeriod,
		ReleaseOnCancel: true,
		Name:            name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(context.Context) { close(acquired) },
			OnStoppedLeading: func() {},
		},
	})
	if err != nil {
		return nil, err
	}
	// The election outlives ctx (it runs until Release) but keeps its
	// values. Leader election logs through klog at Info on every
	// acquisition; tugboat logs what matters itself.
	runCtx, cancel := context.WithCancel(quietKlog(context.WithoutCancel(ctx)))
	h.cancel = cancel
	go func() {
		defer close(h.done)
		le.Run(runCtx)
		if !h.released.Load() {
			close(h.lost)
		}
	}()
	select {
	case <-acquired:
		return h, nil
	case <-h.done:
		return nil, errors.New("lost as soon as it was acquired")
	case <-ctx.Done():
		h.released.Store(true)
		cancel()
		<-h.done // releases the Lease if it was acquired meanwhile
		return nil, context.Cause(ctx)
	}
}

// quietKlog gives leader election a discarding logger: it logs every
// acquisition and renewal failure at Info through klog.
func quietKlog(ctx context.Context) context.Context { return klog.NewContext(ctx, logr.Discard()) }

// Identity is the holder identity the Lease names while held.
func (h *HeldLease) Identity() string { return h.identity }

// Name is the Lease's name.
func (h *HeldLease) Name() string { return h.name }

// Lost is closed when the Lease was lost: renewal failed for RenewDeadline
// (the API server was unreachable, or another process took it over).
// Whoever holds it must stop what it guards once it is closed.
func (h *HeldLease) Lost() <-chan struct{} { return h.lost }

// Release stops renewing and gives the Lease up, so a waiting process can
// take it at once rather than after LeaseDuration. Releasing a Lease that
// was lost is not an error (the caller has seen Lost). Release may be
// called more than once.
func (h *HeldLease) Release(ctx context.Context) error {
	h.released.Store(true)
	h.cancel()
	select {
	case <-h.done:
	case <-ctx.Done():
		return fmt.Errorf("release lease %s: %w", h.name, context.Cause(ctx))
	}
	// Leader election's own release can fail without telling us: a renewal
	// cut off by the cancel may have landed on the server after all, so its
	// release update conflicts; a Lease lost to a slow renewal still names
	// us too. Either way nobody else holds it and we stopped renewing, so
	// clear the holder ourselves, conditional on the version read, and the
	// next holder need not wait out the lease duration.
	for attempt := 0; ; attempt++ {
		err := h.clearIfHeld(ctx)
		if err == nil || !apierrors.IsConflict(err) || attempt == 2 {
			return err
		}
	}
}

// clearIfHeld empties the Lease's holder if it still names this
// acquisition. The update carries the version read, so a Lease another
// process took meanwhile is left alone (a Conflict to retry).
func (h *HeldLease) clearIfHeld(ctx context.Context) error {
	leases := h.c.Coordination.Leases(h.namespace)
	l, err := leases.Get(ctx, h.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("release lease %s: %w", h.name, err)
	}
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != h.identity {
		return nil
	}
	empty, one := "", int32(1)
	now := metav1.NewMicroTime(time.Now())
	l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds, l.Spec.RenewTime = &empty, &one, &now
	if _, err := leases.Update(ctx, l, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("release lease %s: the Lease still names %s and clearing it failed (it expires unless renewed): %w", h.name, h.identity, err)
	}
	return nil
}

// leaseHolder reports who holds Lease namespace/name and whether the holder
// is live: it renewed the Lease within its duration, by this machine's
// clock. A Lease never taken, or released, has no holder.
func leaseHolder(ctx context.Context, c *Cluster, namespace, name string) (holder string, live bool, err error) {
	l, err := c.Coordination.Leases(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read lease %s: %w", name, err)
	}
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == "" {
		return "", false, nil
	}
	holder = *l.Spec.HolderIdentity
	if l.Spec.RenewTime == nil || l.Spec.LeaseDurationSeconds == nil {
		return holder, false, nil
	}
	expires := l.Spec.RenewTime.Add(time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second)
	return holder, time.Now().Before(expires), nil
}

// EnsureNamespace creates namespace ns unless it exists. A read first,
// since it almost always exists and a read is the cheaper request.
func EnsureNamespace(ctx context.Context, c *Cluster, ns string) error {
	if ns == "" {
		return errors.New("ensure namespace: no name given")
	}
	_, err := c.Dynamic.Resource(namespaceGVR).Get(ctx, ns, metav1.GetOptions{})
	if err == nil {
		return nil
	}
	if !apierrors.IsNotFound(err) {
		return fmt.Errorf("read namespace %s: %w", ns, err)
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": ns},
	}}
	if err := applyObject(ctx, c, namespaceGVR, "", obj); err != nil {
		return fmt.Errorf("create namespace %s: %w", ns, err)
	}
	return nil
}
