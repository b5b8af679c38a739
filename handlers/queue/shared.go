package queue

import (
	"context"
	"time"
)

// Locker takes a lock every replica of the bot shares on an event's key
// (kube.PRLocker: a per-PR Lease in the home namespace), so one pull
// request's events are handled by one replica at a time while the
// scheduler's own per-key order keeps them in order within a replica.
type Locker interface {
	// Lock blocks until the key's lock is held or ctx ends. held ends if
	// the lock is lost (its renewals failed): the handler must stop. unlock
	// releases it; it is called exactly once.
	Lock(ctx context.Context, key string) (held context.Context, unlock func(), err error)
}

// SeenStore is a record of handled delivery ids every replica shares and
// that survives restarts (kube.DeliveryRing), for a bounded window. The
// scheduler asks it under the key's Locker lock, so two replicas given one
// delivery never both handle it.
type SeenStore interface {
	Seen(ctx context.Context, id string) (bool, error)
	Add(ctx context.Context, id string) error
}

// DefaultLockWait bounds the wait for a key's Locker lock: longer than a
// dead holder's lease, and than most plans another replica may be running
// for the same pull request.
const DefaultLockWait = 5 * time.Minute
