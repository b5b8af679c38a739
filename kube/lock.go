package kube

import (
	"context"
	"errors"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Annotations of a PR lock: who applied, when and which head. The holder
// itself is the Lease's spec.holderIdentity.
const (
	AnnotationLockedBy   = "tugboat.dev/locked-by"
	AnnotationLockedAt   = "tugboat.dev/locked-at"
	AnnotationLockedHead = "tugboat.dev/locked-head"
)

// lockAttempts bounds the retries of a lock operation that lost a race
// (the Lease changed between the read and the write). Each retry re-reads,
// so a few are plenty; more would mean something rewrites the Lease in a
// loop.
const lockAttempts = 5

// LockInfo is a PR lock: which pull request holds the environment
// ("owner/repo#N"), who applied last, when, and which head.
type LockInfo struct {
	Holder string
	By     string
	Head   string
	At     time.Time
}

// LockedError says an environment is locked by another pull request.
type LockedError struct {
	Env  string
	Lock LockInfo
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("environment %s is locked by %s", e.Env, e.Lock.Holder)
}

// AcquireLock takes the environment's PR lock for info.Holder (a Lease
// tugboat-lock-<env>-<hash> in SystemNamespace, created with the namespace
// if missing). Taking is atomic: the Lease is created, and a create that
// finds it already there reads it instead. A lock already held by
// info.Holder is kept and its by/head/at are updated (taken is false); a
// lock held by anyone else is left alone and a *LockedError names the
// holder. The lock never expires: it is released by ReleaseLock only.
// A zero info.At means now.
func AcquireLock(ctx context.Context, c *Cluster, set ApplySet, info LockInfo) (taken bool, err error) {
	if info.Holder == "" {
		return false, errors.New("acquire lock: no holder given")
	}
	if info.At.IsZero() {
		info.At = time.Now()
	}
	name := set.LockName()
	if err := ensureSystemNamespace(ctx, c); err != nil {
		return false, fmt.Errorf("acquire lock %s: %w", name, err)
	}
	leases := c.Coordination.Leases(SystemNamespace)
	for range lockAttempts {
		lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: SystemNamespace, Labels: set.leaseLabels(LeaseLock),
		}}
		setLock(lease, set, info, true)
		_, err := leases.Create(ctx, lease, metav1.CreateOptions{FieldManager: FieldManager})
		if err == nil {
			return true, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return false, fmt.Errorf("acquire lock %s: %w", name, err)
		}
		cur, err := leases.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue // released in between: create again
		}
		if err != nil {
			return false, fmt.Errorf("acquire lock %s: %w", name, err)
		}
		holder := lockOf(cur).Holder
		if holder != "" && holder != info.Holder {
			return false, &LockedError{Env: set.Env, Lock: lockOf(cur)}
		}
		// Ours already (a re-apply), or a Lease someone emptied by hand:
		// the update carries the resourceVersion just read, so it fails
		// rather than overwrite a holder that came in between.
		taken = holder == ""
		setLock(cur, set, info, taken)
		_, err = leases.Update(ctx, cur, metav1.UpdateOptions{FieldManager: FieldManager})
		if err == nil {
			return taken, nil
		}
		if !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
			return false, fmt.Errorf("acquire lock %s: %w", name, err)
		}
	}
	return false, fmt.Errorf("acquire lock %s: the Lease kept changing; gave up after %d attempts", name, lockAttempts)
}

// ReadLock reads the environment's PR lock: nil (and no error) when the
// environment is not locked.
func ReadLock(ctx context.Context, c *Cluster, set ApplySet) (*LockInfo, error) {
	l, err := c.Coordination.Leases(SystemNamespace).Get(ctx, set.LockName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read lock %s: %w", set.LockName(), err)
	}
	info := lockOf(l)
	if info.Holder == "" {
		return nil, nil
	}
	return &info, nil
}

// ReleaseLock releases the environment's PR lock if holder holds it. An
// environment not locked is not an error; one locked by another holder is
// a *LockedError and stays locked. The Lease is deleted with a
// precondition on the uid and resourceVersion that was read, so a lock
// taken over in between is never deleted.
func ReleaseLock(ctx context.Context, c *Cluster, set ApplySet, holder string) error {
	return releaseLock(ctx, c, set, holder, nil)
}

// releaseLock is ReleaseLock with a hook run between the read and the
// delete, for tests of the race the precondition is there for.
func releaseLock(ctx context.Context, c *Cluster, set ApplySet, holder string, afterRead func()) error {
	name := set.LockName()
	leases := c.Coordination.Leases(SystemNamespace)
	for range lockAttempts {
		cur, err := leases.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("release lock %s: %w", name, err)
		}
		info := lockOf(cur)
		if info.Holder == "" {
			return nil
		}
		if info.Holder != holder {
			return &LockedError{Env: set.Env, Lock: info}
		}
		if afterRead != nil {
			afterRead()
		}
		err = leases.Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{
			UID: &cur.UID, ResourceVersion: &cur.ResourceVersion,
		}})
		if err == nil || apierrors.IsNotFound(err) {
			return nil
		}
		if !apierrors.IsConflict(err) {
			return fmt.Errorf("release lock %s: %w", name, err)
		}
		// Changed since the read: read again and decide again.
	}
	return fmt.Errorf("release lock %s: the Lease kept changing; gave up after %d attempts", name, lockAttempts)
}

// setLock writes info into a lock Lease. The acquire time is only set when
// the lock is taken: a re-apply keeps the time the PR first took it.
func setLock(l *coordinationv1.Lease, set ApplySet, info LockInfo, taken bool) {
	holder := info.Holder
	l.Spec.HolderIdentity = &holder
	// No leaseDurationSeconds: a PR lock never expires.
	l.Spec.LeaseDurationSeconds = nil
	if taken || l.Spec.AcquireTime == nil {
		l.Spec.AcquireTime = &metav1.MicroTime{Time: info.At}
	}
	if l.Annotations == nil {
		l.Annotations = map[string]string{}
	}
	l.Annotations[AnnotationRepository] = set.Repo
	l.Annotations[AnnotationEnvironment] = set.Env
	l.Annotations[AnnotationLockedBy] = info.By
	l.Annotations[AnnotationLockedAt] = info.At.UTC().Format(time.RFC3339)
	l.Annotations[AnnotationLockedHead] = info.Head
}

// lockOf reads a lock Lease.
func lockOf(l *coordinationv1.Lease) LockInfo {
	var info LockInfo
	if l.Spec.HolderIdentity != nil {
		info.Holder = *l.Spec.HolderIdentity
	}
	a := l.Annotations
	info.By, info.Head = a[AnnotationLockedBy], a[AnnotationLockedHead]
	info.At, _ = time.Parse(time.RFC3339, a[AnnotationLockedAt])
	return info
}
