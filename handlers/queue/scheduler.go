// Package queue is the bot's githubapp.Scheduler: webhooks are acknowledged
// as soon as they are queued, events of one pull request run in order and
// one at a time while different pull requests run in parallel, and a
// delivery is de-duplicated by its X-GitHub-Delivery id.
//
// go-githubapp's own QueueAsyncScheduler is a single FIFO: two events of
// one PR can run at once (a push racing a /plan) and nothing drains it on
// shutdown, hence this one.
package queue

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"
)

// KeyFunc says which events must be serialized: events with the same key
// run in order, one at a time. The handlers key by repository and pull
// request number. An empty key marks an event no handler acts on (the
// bot's own comments, pushes to other branches): it runs unordered, with
// no shared lock and no shared record, so it never waits for a pull
// request's lease.
type KeyFunc func(d githubapp.Dispatch) string

// Options configure a Scheduler.
type Options struct {
	// Size bounds the events waiting (default 1000); beyond it Schedule
	// answers githubapp.ErrCapacityExceeded, which the dispatcher turns
	// into a 503 so that GitHub records the delivery as failed.
	Size int
	// Workers is how many events run at once (default 4).
	Workers int
	Key     KeyFunc
	// Remember is how many handled delivery ids are kept to recognise
	// duplicates (default 10,000).
	Remember int
	Metrics  *Metrics
	// Locker, when set, is taken on an event's key before it runs and
	// released once it (and any work it detached) is done: several
	// replicas then handle one pull request's events one at a time.
	Locker Locker
	// LockWait bounds the wait for the Locker (default DefaultLockWait);
	// an event that could not take it fails (a redelivery, or the
	// leader's resync, makes it good).
	LockWait time.Duration
	// Shared, when set, records handled delivery ids for every replica
	// and across restarts, beside the in-memory record.
	Shared SeenStore
}

// Scheduler implements githubapp.Scheduler.
type Scheduler struct {
	opts Options
	// base is the parent of every handler's context; cancelled when a
	// drain runs out of time.
	base   context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	wake     *sync.Cond
	queues   map[string][]item // per key, in arrival order
	ready    []string          // keys with work and no running event, oldest first
	running  map[string]bool   // keys with an event being handled
	inflight map[string]bool   // delivery ids queued or running
	seen     *idSet            // delivery ids handled successfully
	waiting  int
	busy     int
	// unordered numbers the private keys of events keyed "".
	unordered uint64
	closed    bool
	workers   sync.WaitGroup
	// detached counts handlers' work that outlived its handler (see
	// Detach); Shutdown waits for it too.
	detached sync.WaitGroup
}

type item struct {
	key string
	// unordered: the key function said "" — an event no handler acts on,
	// run without order, shared lock or shared record.
	unordered bool
	d         githubapp.Dispatch
	// log is the delivery's logger (event and delivery id), carried across
	// the queue into the handler's context: the webhook request's own
	// context ends once the delivery is acknowledged.
	log      zerolog.Logger
	received time.Time
}

// New starts a scheduler's workers.
func New(opts Options) *Scheduler {
	if opts.Size <= 0 {
		opts.Size = 1000
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.Remember <= 0 {
		opts.Remember = 10000
	}
	if opts.LockWait <= 0 {
		opts.LockWait = DefaultLockWait
	}
	if opts.Key == nil {
		opts.Key = func(githubapp.Dispatch) string { return "" }
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Scheduler{
		opts:     opts,
		base:     ctx,
		cancel:   cancel,
		queues:   map[string][]item{},
		running:  map[string]bool{},
		inflight: map[string]bool{},
		seen:     newIDSet(opts.Remember),
	}
	s.wake = sync.NewCond(&s.mu)
	for i := 0; i < opts.Workers; i++ {
		s.workers.Add(1)
		go s.work()
	}
	return s
}

// ErrDraining is returned (wrapped in githubapp.ErrCapacityExceeded) once
// shutdown has begun.
var ErrDraining = errors.New("shutting down")

// Schedule queues d. A delivery id already queued, running or handled is
// acknowledged without running again.
func (s *Scheduler) Schedule(ctx context.Context, d githubapp.Dispatch) error {
	log := zerolog.Ctx(ctx).With().Logger()
	// The key is read from the payload (JSON decoding) before s.mu is
	// taken: every acknowledgement and every worker waits for s.mu, so it
	// is held only for the bookkeeping.
	key := s.opts.Key(d)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		s.opts.Metrics.delivery(d.EventType, OutcomeRejected)
		return fmt.Errorf("%w: %w", githubapp.ErrCapacityExceeded, ErrDraining)
	}
	if d.DeliveryID != "" && (s.inflight[d.DeliveryID] || s.seen.has(d.DeliveryID)) {
		s.opts.Metrics.delivery(d.EventType, OutcomeDuplicate)
		log.Info().Msg("duplicate delivery, already handled or in progress")
		return nil
	}
	if s.waiting >= s.opts.Size {
		s.opts.Metrics.delivery(d.EventType, OutcomeRejected)
		return githubapp.ErrCapacityExceeded
	}
	unordered := key == ""
	if unordered {
		s.unordered++
		key = fmt.Sprintf("\x00%d", s.unordered)
	}
	s.queues[key] = append(s.queues[key], item{d: d, log: log, received: time.Now(), unordered: unordered})
	if len(s.queues[key]) == 1 && !s.running[key] {
		s.ready = append(s.ready, key)
	}
	if d.DeliveryID != "" {
		s.inflight[d.DeliveryID] = true
	}
	s.waiting++
	s.opts.Metrics.depth(s.waiting, s.busy)
	s.wake.Signal()
	return nil
}

// work runs events until the scheduler is closed and empty.
func (s *Scheduler) work() {
	defer s.workers.Done()
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		for len(s.ready) == 0 && !(s.closed && s.waiting == 0) {
			s.wake.Wait()
		}
		if len(s.ready) == 0 {
			s.wake.Broadcast() // let the other workers see the end too
			return
		}
		key := s.ready[0]
		s.ready = s.ready[1:]
		it := s.queues[key][0]
		it.key = key
		s.queues[key] = s.queues[key][1:]
		s.running[key] = true
		s.waiting--
		s.busy++
		s.opts.Metrics.depth(s.waiting, s.busy)
		s.mu.Unlock()

		h := &holder{}
		err := s.handle(it, h)
		// The shared lock is released outside s.mu: it is a request to the
		// home cluster, and Schedule (the webhook's acknowledgement) waits
		// for s.mu.
		detached := h.take()
		if !detached {
			h.unlock()
		}

		s.mu.Lock()
		s.busy--
		s.opts.Metrics.depth(s.waiting, s.busy)
		if it.d.DeliveryID != "" {
			delete(s.inflight, it.d.DeliveryID)
			if err == nil {
				s.seen.add(it.d.DeliveryID)
			}
		}
		if !detached {
			s.release(key)
		}
		if s.closed && s.waiting == 0 && s.busy == 0 {
			s.wake.Broadcast()
		}
	}
}

// release lets the next event of key run. Called with s.mu held.
func (s *Scheduler) release(key string) {
	delete(s.running, key)
	if len(s.queues[key]) > 0 {
		s.ready = append(s.ready, key)
		s.wake.Signal()
	} else {
		delete(s.queues, key)
	}
}

// holder records whether a handler detached its work, and how to release
// the key's shared lock (see Options.Locker) once the work is done.
type holder struct {
	mu       sync.Mutex
	detached bool
	returned bool
	done     func()
	release  func()
}

// unlock releases the key's shared lock, if one was taken.
func (h *holder) unlock() {
	h.mu.Lock()
	f := h.release
	h.release = nil
	h.mu.Unlock()
	if f != nil {
		f()
	}
}

// take is called when the handler returned: it reports whether the key
// stays held by detached work.
func (h *holder) take() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.returned = true
	return h.detached
}

type detachKey struct{}

// Detach lets a handler hand long work (an apply that waits minutes for
// convergence) to a pool of its own while keeping its key's order: the
// worker is freed as soon as the handler returns, but later events of the
// same key (the same pull request) wait until the returned done is called.
// Call Detach before the handler returns and done exactly once when the
// work ends. Outside a Scheduler (tests, the CLI) Detach returns nil.
func Detach(ctx context.Context) (done func()) {
	f, _ := ctx.Value(detachKey{}).(func() func())
	if f == nil {
		return nil
	}
	return f()
}

func (s *Scheduler) detachFunc(key string, h *holder) func() func() {
	return func() func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.returned || h.detached {
			return nil // too late, or already detached: the caller runs inline
		}
		h.detached = true
		s.detached.Add(1)
		var once sync.Once
		return func() {
			once.Do(func() {
				h.unlock()
				s.mu.Lock()
				s.release(key)
				if s.closed && s.waiting == 0 && s.busy == 0 {
					s.wake.Broadcast()
				}
				s.mu.Unlock()
				s.detached.Done()
			})
		}
	}
}

// handle runs one event under its key's shared lock, unless another
// replica (or this one before a restart) handled the delivery already.
func (s *Scheduler) handle(it item, h *holder) error {
	base := it.log.WithContext(s.base)
	if s.opts.Locker != nil && !it.unordered {
		// The lock's context bounds the wait only: once held, the handling
		// runs under it for as long as it takes.
		lctx, cancel := context.WithCancelCause(base)
		timer := time.AfterFunc(s.opts.LockWait, func() {
			cancel(fmt.Errorf("waited %s for the lease", s.opts.LockWait))
		})
		held, unlock, err := s.opts.Locker.Lock(lctx, it.key)
		timer.Stop()
		if err == nil && lctx.Err() != nil {
			unlock()
			err = context.Cause(lctx)
		}
		if err != nil {
			cancel(nil)
			s.opts.Metrics.delivery(it.d.EventType, OutcomeFailed)
			it.log.Error().Err(err).Msg("could not take the pull request's lease; a redelivery or the resync will handle the event")
			return err
		}
		h.release = func() { unlock(); cancel(nil) }
		base = held
	}
	shared := s.opts.Shared != nil && it.d.DeliveryID != "" && !it.unordered
	if shared {
		seen, err := s.opts.Shared.Seen(base, it.d.DeliveryID)
		if err != nil {
			// Handling is idempotent (latest-wins): a duplicate is cheaper
			// than an event lost because the record did not answer.
			it.log.Warn().Err(err).Msg("could not read the shared delivery record; handling the event")
		} else if seen {
			s.opts.Metrics.delivery(it.d.EventType, OutcomeDuplicate)
			it.log.Info().Msg("duplicate delivery, already handled by a replica")
			return nil
		}
	}
	err := s.execute(base, it, h)
	if err == nil && shared {
		if err := s.opts.Shared.Add(base, it.d.DeliveryID); err != nil {
			it.log.Warn().Err(err).Msg("could not record the delivery as handled in the shared record")
		}
	}
	return err
}

// execute runs one event, turning a panic into an error.
func (s *Scheduler) execute(base context.Context, it item, h *holder) (err error) {
	ctx := it.log.WithContext(githubapp.InitializeResponder(base))
	ctx = context.WithValue(ctx, detachKey{}, s.detachFunc(it.key, h))
	start := time.Now()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panicked: %v\n%s", r, debug.Stack())
		}
		outcome := OutcomeHandled
		if err != nil {
			outcome = OutcomeFailed
			it.log.Error().Err(err).Dur("took", time.Since(start)).Msg("handling the event failed; a redelivery will run it again")
		} else {
			it.log.Debug().Dur("took", time.Since(start)).Dur("waited", start.Sub(it.received)).Msg("event handled")
		}
		s.opts.Metrics.delivery(it.d.EventType, outcome)
	}()
	return it.d.Execute(ctx)
}

// Depth is the number of events waiting (not counting those running).
func (s *Scheduler) Depth() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiting
}

// Shutdown stops accepting events and waits for the queued and running
// ones to finish. When ctx ends first, the running handlers' contexts are
// cancelled, the rest is dropped, and ctx's error is returned.
func (s *Scheduler) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.wake.Broadcast()
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.workers.Wait()
		s.detached.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.cancel()
		s.mu.Lock()
		dropped := s.waiting
		s.queues = map[string][]item{}
		s.ready = nil
		s.waiting = 0
		s.wake.Broadcast()
		s.mu.Unlock()
		zerolog.Ctx(ctx).Warn().Int("dropped", dropped).Msg("shutdown: gave up draining the event queue")
		<-done
		return ctx.Err()
	}
}
