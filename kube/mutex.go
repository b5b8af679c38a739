package kube

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/rs/zerolog"
)

// The apply mutex's timing by default: client-go's own leader-election
// defaults, which its core components run with.
const (
	DefaultMutexLeaseDuration = 15 * time.Second
	DefaultMutexRenewDeadline = 10 * time.Second
	DefaultMutexRetryPeriod   = 2 * time.Second
)

// MutexOptions tune the apply mutex. Zero fields take the defaults.
type MutexOptions struct {
	// LeaseDuration is how long a holder that stopped renewing keeps the
	// mutex before another process may take it over. Whole seconds (the
	// Lease stores seconds).
	LeaseDuration time.Duration
	// RenewDeadline is how long the holder keeps failing to renew before it
	// gives the mutex up and closes Lost. Shorter than LeaseDuration, so a
	// holder stops writing before anyone can take over.
	RenewDeadline time.Duration
	// RetryPeriod is the interval between renewals, and between attempts to
	// take a mutex that is held (jittered up to 2.2×).
	RetryPeriod time.Duration
}

func (o MutexOptions) withDefaults() MutexOptions {
	if o.LeaseDuration == 0 {
		o.LeaseDuration = DefaultMutexLeaseDuration
	}
	if o.RenewDeadline == 0 {
		o.RenewDeadline = DefaultMutexRenewDeadline
	}
	if o.RetryPeriod == 0 {
		o.RetryPeriod = DefaultMutexRetryPeriod
	}
	return o
}

// Mutex is a held apply mutex: the Lease tugboat-mutex-<env>-<hash> in
// SystemNamespace, renewed in the background until Release. Every write to
// an environment (apply, merge deploy, heal) holds it, so two bot replicas
// never write one environment at once.
//
// It is a HeldLease (client-go's leader election on a LeaseLock). One
// difference from reading renewTime: a process takes over only after it has
// itself watched the Lease go unrenewed for a whole LeaseDuration, so clock
// skew between replicas cannot make it steal a live mutex; a restarted bot
// thus waits up to one LeaseDuration for the mutex its predecessor held.
type Mutex struct {
	*HeldLease
}

// ProcessIdentity names this bot process for the apply mutex: host name
// (a Pod's name in a cluster), process id and a random part, so a process
// restarted with the same pid is not mistaken for its predecessor.
func ProcessIdentity() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return host + "-" + strconv.Itoa(os.Getpid()) + "-" + randomHex(4)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// AcquireMutex blocks until it holds the environment's apply mutex or ctx
// ends. The Lease's holder is identity (see ProcessIdentity) plus a suffix
// unique to this acquisition (see acquireLease). Once acquired, ctx no
// longer matters: the mutex is renewed in the background until Release,
// and Lost is closed if renewal fails — the caller must then stop writing.
func AcquireMutex(ctx context.Context, c *Cluster, set ApplySet, identity string, opt MutexOptions) (*Mutex, error) {
	name := set.MutexName()
	if identity == "" {
		return nil, errors.New("acquire mutex: no identity given")
	}
	if err := ensureSystemNamespace(ctx, c); err != nil {
		return nil, fmt.Errorf("acquire mutex %s: %w", name, err)
	}
	h, err := acquireLease(ctx, c, SystemNamespace, name, set.leaseLabels(LeaseMutex), identity, opt)
	if err != nil {
		return nil, fmt.Errorf("acquire mutex %s: %w", name, err)
	}
	zerolog.Ctx(ctx).Debug().Str("mutex", name).Str("holder", h.Identity()).Msg("apply mutex acquired")
	return &Mutex{h}, nil
}

// MutexHolder reports who holds the environment's apply mutex and whether
// the holder is live: it renewed the Lease within its duration, by this
// machine's clock. A restarted bot asks before concluding that what a dead
// process left in progress was interrupted. An environment whose mutex was
// never taken, or was released, has no holder.
func MutexHolder(ctx context.Context, c *Cluster, set ApplySet) (holder string, live bool, err error) {
	holder, live, err = leaseHolder(ctx, c, SystemNamespace, set.MutexName())
	if err != nil {
		return "", false, fmt.Errorf("read mutex %s: %w", set.MutexName(), err)
	}
	return holder, live, nil
}
