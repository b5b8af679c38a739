package kube

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/rs/zerolog"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"
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
// It is client-go's leader election on a LeaseLock: acquiring, renewing,
// taking over from a holder that stopped renewing and releasing on cancel
// are exactly what leader election does, and its timing rules (a holder
// gives up after RenewDeadline, before anyone may take over after
// LeaseDuration) are the ones that make the handover safe. One difference
// from reading renewTime: a process takes over only after it has itself
// watched the Lease go unrenewed for a whole LeaseDuration, so clock skew
// between replicas cannot make it steal a live mutex; a restarted bot thus
// waits up to one LeaseDuration for the mutex its predecessor held.
type Mutex struct {
	set      ApplySet
	c        *Cluster
	identity string
	cancel   context.CancelFunc
	done     chan struct{} // the election loop has returned
	lost     chan struct{}
	released atomic.Bool
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
// unique to this acquisition: leader election treats a Lease naming its
// own identity as already held, so two acquisitions in one process sharing
// an identity would both "hold" it. Once acquired, ctx no longer matters:
// the mutex is renewed in the background until Release, and Lost is closed
// if renewal fails — the caller must then stop writing.
func AcquireMutex(ctx context.Context, c *Cluster, set ApplySet, identity string, opt MutexOptions) (*Mutex, error) {
	opt = opt.withDefaults()
	name := set.MutexName()
	if identity == "" {
		return nil, errors.New("acquire mutex: no identity given")
	}
	if opt.LeaseDuration%time.Second != 0 {
		return nil, fmt.Errorf("acquire mutex %s: lease duration %s is not whole seconds", name, opt.LeaseDuration)
	}
	if err := ensureSystemNamespace(ctx, c); err != nil {
		return nil, fmt.Errorf("acquire mutex %s: %w", name, err)
	}
	m := &Mutex{
		set: set, c: c,
		identity: identity + "/" + randomHex(4),
		done:     make(chan struct{}),
		lost:     make(chan struct{}),
	}
	acquired := make(chan struct{})
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: &resourcelock.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Name: name, Namespace: SystemNamespace},
			Client:     c.Coordination,
			LockConfig: resourcelock.ResourceLockConfig{Identity: m.identity},
			Labels:     set.leaseLabels(LeaseMutex),
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
		return nil, fmt.Errorf("acquire mutex %s: %w", name, err)
	}
	// The election outlives ctx (it runs until Release) but keeps its
	// values. Leader election logs through klog at Info on every
	// acquisition; tugboat logs what matters itself.
	runCtx, cancel := context.WithCancel(klog.NewContext(context.WithoutCancel(ctx), logr.Discard()))
	m.cancel = cancel
	go func() {
		defer close(m.done)
		le.Run(runCtx)
		if !m.released.Load() {
			close(m.lost)
		}
	}()
	log := zerolog.Ctx(ctx)
	select {
	case <-acquired:
		log.Debug().Str("mutex", name).Str("holder", m.identity).Msg("apply mutex acquired")
		return m, nil
	case <-m.done:
		return nil, fmt.Errorf("acquire mutex %s: lost as soon as it was acquired", name)
	case <-ctx.Done():
		m.released.Store(true)
		cancel()
		<-m.done // releases the mutex if it was acquired meanwhile
		return nil, fmt.Errorf("acquire mutex %s: %w", name, context.Cause(ctx))
	}
}

// Identity is the holder identity the mutex's Lease names while held.
func (m *Mutex) Identity() string { return m.identity }

// Lost is closed when the mutex was lost: renewal failed for RenewDeadline
// (the API server was unreachable, or another process took the mutex over).
// Whoever holds the mutex must stop writing once it is closed.
func (m *Mutex) Lost() <-chan struct{} { return m.lost }

// Release stops renewing and gives the mutex up, so a waiting process can
// take it at once rather than after LeaseDuration. Releasing a mutex that
// was lost is not an error (the caller has seen Lost). Release may be
// called more than once.
func (m *Mutex) Release(ctx context.Context) error {
	m.released.Store(true)
	m.cancel()
	select {
	case <-m.done:
	case <-ctx.Done():
		return fmt.Errorf("release mutex %s: %w", m.set.MutexName(), context.Cause(ctx))
	}
	select {
	case <-m.lost:
		return nil
	default:
	}
	// Leader election logs a failed release instead of returning it: read
	// the Lease to tell the caller.
	l, err := m.c.Coordination.Leases(SystemNamespace).Get(ctx, m.set.MutexName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("release mutex %s: %w", m.set.MutexName(), err)
	}
	if l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity == m.identity {
		return fmt.Errorf("release mutex %s: the Lease still names %s; it expires unless renewed", m.set.MutexName(), m.identity)
	}
	return nil
}

// MutexHolder reports who holds the environment's apply mutex and whether
// the holder is live: it renewed the Lease within its duration, by this
// machine's clock. A restarted bot asks before concluding that what a dead
// process left in progress was interrupted. An environment whose mutex was
// never taken, or was released, has no holder.
func MutexHolder(ctx context.Context, c *Cluster, set ApplySet) (holder string, live bool, err error) {
	l, err := c.Coordination.Leases(SystemNamespace).Get(ctx, set.MutexName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read mutex %s: %w", set.MutexName(), err)
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
