package kube

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/rs/zerolog"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// DefaultLeaderLease is the leader-election Lease's name in the home
// namespace.
const DefaultLeaderLease = "tugboat-leader"

// Loop is a singleton the leader runs: Run works until its context ends
// (leadership lost, or the process stopping) and must then return promptly,
// since another replica may lead once the lease duration has passed.
type Loop struct {
	Name string
	Run  func(ctx context.Context)
}

// LeaderOptions configure Lead.
type LeaderOptions struct {
	// Namespace holds the Lease (the bot's home namespace; created if
	// missing).
	Namespace string
	// Name is the Lease's name (default DefaultLeaderLease).
	Name string
	// Identity names this process (see ProcessIdentity); a random suffix is
	// added, so a restarted process is never taken for its predecessor.
	Identity string
	// Timing of the election; zero fields take client-go's defaults.
	Timing MutexOptions
	// OnChange, when set, is told when this process starts (true) and stops
	// (false) leading.
	OnChange func(leading bool)
}

// Lead campaigns for leadership until ctx ends, with client-go's leader
// election over a Lease. While this process leads it runs every loop, each
// in a goroutine of its own whose context ends when leadership is lost
// (renewals failed for the renew deadline, which is shorter than the lease
// duration, so the loops are told to stop before anyone else may lead);
// once they have all returned it campaigns again. On ctx's end the Lease is
// released, so another replica takes over at once rather than after the
// lease duration. A loop that panics is logged and not restarted until the
// next term.
func Lead(ctx context.Context, c *Cluster, opt LeaderOptions, loops ...Loop) error {
	if opt.Name == "" {
		opt.Name = DefaultLeaderLease
	}
	timing := opt.Timing.withDefaults()
	if opt.Identity == "" {
		return fmt.Errorf("lead %s: no identity given", opt.Name)
	}
	log := zerolog.Ctx(ctx).With().Str("lease", opt.Namespace+"/"+opt.Name).Logger()
	identity := opt.Identity + "/" + randomHex(4)
	for ctx.Err() == nil {
		if err := EnsureNamespace(ctx, c, opt.Namespace); err != nil {
			if ctx.Err() != nil {
				break
			}
			log.Warn().Err(err).Msg("cannot reach the home namespace to campaign for leadership; retrying")
			sleepCtx(ctx, timing.RetryPeriod)
			continue
		}
		var (
			running sync.WaitGroup
			led     bool // OnStartedLeading ran in this term
			ledMu   sync.Mutex
		)
		le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock: &resourcelock.LeaseLock{
				LeaseMeta:  metav1.ObjectMeta{Name: opt.Name, Namespace: opt.Namespace},
				Client:     c.Coordination,
				LockConfig: resourcelock.ResourceLockConfig{Identity: identity},
				Labels:     map[string]string{LabelLease: LeaseLeader},
			},
			LeaseDuration:   timing.LeaseDuration,
			RenewDeadline:   timing.RenewDeadline,
			RetryPeriod:     timing.RetryPeriod,
			ReleaseOnCancel: true,
			Name:            opt.Name,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(lctx context.Context) {
					log.Info().Str("identity", identity).Msg("became the leader: running the singletons")
					ledMu.Lock()
					led = true
					ledMu.Unlock()
					if opt.OnChange != nil {
						opt.OnChange(true)
					}
					for _, l := range loops {
						running.Add(1)
						go runLoop(log.With().Str("loop", l.Name).Logger().WithContext(lctx), l, &running)
					}
				},
				OnStoppedLeading: func() {},
			},
		})
		if err != nil {
			return fmt.Errorf("lead %s: %w", opt.Name, err)
		}
		le.Run(quietKlog(ctx))
		// Run returns when leadership is lost or ctx ended; the loops'
		// context is cancelled by then. Wait for them before campaigning
		// again, so two terms' loops never overlap in this process.
		running.Wait()
		ledMu.Lock()
		wasLeader := led
		ledMu.Unlock()
		if wasLeader {
			if opt.OnChange != nil {
				opt.OnChange(false)
			}
			if ctx.Err() == nil {
				log.Warn().Msg("lost the leadership (renewals failed): the singletons stopped; campaigning again")
			}
		}
	}
	log.Info().Msg("stopped campaigning for leadership")
	return nil
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// runLoop runs one loop, turning a panic into a log line.
func runLoop(ctx context.Context, l Loop, wg *sync.WaitGroup) {
	defer wg.Done()
	defer func() {
		if v := recover(); v != nil {
			zerolog.Ctx(ctx).Error().Str("panic", fmt.Sprint(v)).Str("stack", string(debug.Stack())).Msg("a singleton loop crashed; it runs again next term")
		}
	}()
	l.Run(ctx)
}
