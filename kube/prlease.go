package kube

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Values of LabelLease on the bot's own Leases in its home namespace.
const (
	// LeasePR marks a per-PR Lease (see AcquirePRLease).
	LeasePR = "pr"
	// LeaseLeader marks the leader-election Lease (see Lead).
	LeaseLeader = "leader"
)

// PRLeaseName is the name of the per-PR Lease of key (the webhook queue's
// key: "owner/repo#N" for a pull request's events): "tugboat-pr-" and a
// hash, since a repository name is not a valid object name.
func PRLeaseName(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "tugboat-pr-" + hex.EncodeToString(sum[:])[:16]
}

// AcquirePRLease blocks until this process holds the per-PR Lease of key in
// namespace (the bot's home namespace, created if missing) or ctx ends. One
// replica at a time handles a pull request's events: it takes the Lease
// before handling one and releases it after; it is renewed meanwhile, and a
// holder that died is taken over once its Lease went unrenewed for
// opt.LeaseDuration. Different keys are different Leases, so different pull
// requests are handled in parallel.
func AcquirePRLease(ctx context.Context, c *Cluster, namespace, key, identity string, opt MutexOptions) (*HeldLease, error) {
	name := PRLeaseName(key)
	if err := EnsureNamespace(ctx, c, namespace); err != nil {
		return nil, fmt.Errorf("acquire lease %s of %s: %w", name, key, err)
	}
	h, err := acquireLease(ctx, c, namespace, name, map[string]string{LabelLease: LeasePR}, identity, opt)
	if err != nil {
		return nil, fmt.Errorf("acquire lease %s of %s: %w", name, key, err)
	}
	return h, nil
}

// PRLeaseHolder reports who holds key's per-PR Lease and whether that
// holder still renews it.
func PRLeaseHolder(ctx context.Context, c *Cluster, namespace, key string) (holder string, live bool, err error) {
	return leaseHolder(ctx, c, namespace, PRLeaseName(key))
}

// DefaultPRLeaseTiming is the per-PR Lease's timing: client-go's lease
// duration and renew deadline, and a short retry period, since a replica
// waiting for another to finish a pull request's event polls at it.
var DefaultPRLeaseTiming = MutexOptions{LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: time.Second}

// PRLocker takes per-PR Leases (AcquirePRLease) in its Namespace of
// Cluster; it is the webhook queue's Locker when several replicas run.
type PRLocker struct {
	Cluster   *Cluster
	Namespace string
	// Identity names this process (ProcessIdentity).
	Identity string
	// Timing defaults to DefaultPRLeaseTiming.
	Timing MutexOptions
}

// Lock takes key's per-PR Lease. held ends if the Lease is lost; unlock
// releases it (a failed release only delays the next holder by the lease
// duration, so it is logged, not returned).
func (l *PRLocker) Lock(ctx context.Context, key string) (context.Context, func(), error) {
	timing := l.Timing
	if timing == (MutexOptions{}) {
		timing = DefaultPRLeaseTiming
	}
	h, err := AcquirePRLease(ctx, l.Cluster, l.Namespace, key, l.Identity, timing)
	if err != nil {
		return nil, nil, err
	}
	held, cancel := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-h.Lost():
			zerolog.Ctx(ctx).Error().Str("lease", h.Name()).Msg("lost the pull request's lease (its renewals failed): stopping its event")
			cancel(fmt.Errorf("lost lease %s of %s", h.Name(), key))
		case <-held.Done():
		}
	}()
	return held, func() {
		cancel(nil)
		rctx := context.WithoutCancel(ctx)
		if err := h.Release(rctx); err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Msg("could not release the pull request's lease")
			return
		}
		deleteReleased(rctx, l.Cluster, l.Namespace, h.Name())
	}, nil
}

// deleteReleased deletes a per-PR Lease nobody holds, so the home
// namespace keeps one Lease per pull request being handled rather than one
// per pull request ever seen. The delete is conditional on the version
// read: a replica that took the Lease meanwhile keeps it.
func deleteReleased(ctx context.Context, c *Cluster, namespace, name string) {
	leases := c.Coordination.Leases(namespace)
	l, err := leases.Get(ctx, name, metav1.GetOptions{})
	if err != nil || (l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != "") {
		return
	}
	rv := l.ResourceVersion
	err = leases.Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &rv}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		zerolog.Ctx(ctx).Debug().Err(err).Str("lease", name).Msg("could not delete a released pull request lease")
	}
}
