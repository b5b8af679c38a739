package queue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
)

// recorder is an EventHandler whose behaviour each test scripts.
type recorder struct {
	mu     sync.Mutex
	order  []string
	handle func(ctx context.Context, id string, payload []byte) error
}

func (r *recorder) Handles() []string { return []string{"pull_request"} }

func (r *recorder) Handle(ctx context.Context, _, id string, payload []byte) error {
	r.mu.Lock()
	r.order = append(r.order, id)
	r.mu.Unlock()
	if r.handle != nil {
		return r.handle(ctx, id, payload)
	}
	return nil
}

func (r *recorder) handled() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.order...)
}

func dispatch(h githubapp.EventHandler, id, key string) githubapp.Dispatch {
	return githubapp.Dispatch{Handler: h, EventType: "pull_request", DeliveryID: id, Payload: []byte(key)}
}

func byPayload(d githubapp.Dispatch) string { return string(d.Payload) }

func drain(t *testing.T, s *Scheduler) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

func TestSamePROneAtATimeInOrder(t *testing.T) {
	var running, maxRunning atomic.Int32
	rec := &recorder{handle: func(context.Context, string, []byte) error {
		n := running.Add(1)
		for {
			m := maxRunning.Load()
			if n <= m || maxRunning.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		running.Add(-1)
		return nil
	}}
	s := New(Options{Workers: 4, Key: byPayload})
	var want []string
	for i := 0; i < 20; i++ {
		id := fmt.Sprintf("d%02d", i)
		want = append(want, id)
		if err := s.Schedule(context.Background(), dispatch(rec, id, "acme/app#1")); err != nil {
			t.Fatal(err)
		}
	}
	drain(t, s)
	if got := rec.handled(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("order = %v, want %v", got, want)
	}
	if maxRunning.Load() != 1 {
		t.Errorf("%d events of one PR ran at once, want 1", maxRunning.Load())
	}
}

func TestDifferentPRsRunInParallel(t *testing.T) {
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(3)
	rec := &recorder{handle: func(context.Context, string, []byte) error {
		started.Done()
		<-release
		return nil
	}}
	s := New(Options{Workers: 3, Key: byPayload})
	for i := 1; i <= 3; i++ {
		s.Schedule(context.Background(), dispatch(rec, fmt.Sprint("d", i), fmt.Sprint("acme/app#", i)))
	}
	done := make(chan struct{})
	go func() { started.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("three PRs' events did not run at the same time")
	}
	close(release)
	drain(t, s)
}

func TestFullQueueRefuses(t *testing.T) {
	release := make(chan struct{})
	rec := &recorder{handle: func(context.Context, string, []byte) error { <-release; return nil }}
	s := New(Options{Workers: 1, Size: 2, Key: byPayload})
	s.Schedule(context.Background(), dispatch(rec, "running", "a"))
	waitFor(t, func() bool { return len(rec.handled()) == 1 })
	for _, id := range []string{"q1", "q2"} {
		if err := s.Schedule(context.Background(), dispatch(rec, id, "b")); err != nil {
			t.Fatalf("Schedule %s: %v", id, err)
		}
	}
	err := s.Schedule(context.Background(), dispatch(rec, "q3", "c"))
	if !errors.Is(err, githubapp.ErrCapacityExceeded) {
		t.Fatalf("Schedule on a full queue = %v, want ErrCapacityExceeded", err)
	}
	close(release)
	drain(t, s)
	if got := rec.handled(); len(got) != 3 {
		t.Errorf("handled %v, want the 3 accepted events", got)
	}
}

func TestDuplicateHandledOnceFailureRetried(t *testing.T) {
	fail := map[string]int{"flaky": 1}
	var mu sync.Mutex
	rec := &recorder{handle: func(_ context.Context, id string, _ []byte) error {
		mu.Lock()
		defer mu.Unlock()
		if fail[id] > 0 {
			fail[id]--
			return errors.New("GitHub said 500")
		}
		return nil
	}}
	s := New(Options{Workers: 1, Key: byPayload})
	ctx := context.Background()
	s.Schedule(ctx, dispatch(rec, "once", "a"))
	waitFor(t, s.idle)
	s.Schedule(ctx, dispatch(rec, "once", "a")) // duplicate of a handled delivery
	s.Schedule(ctx, dispatch(rec, "flaky", "a"))
	waitFor(t, s.idle)
	s.Schedule(ctx, dispatch(rec, "flaky", "a")) // redelivery after a failure
	drain(t, s)
	want := "[once flaky flaky]"
	if got := fmt.Sprint(rec.handled()); got != want {
		t.Errorf("handled %s, want %s", got, want)
	}
}

func TestShutdownDrainsThenRefuses(t *testing.T) {
	rec := &recorder{handle: func(context.Context, string, []byte) error { time.Sleep(10 * time.Millisecond); return nil }}
	s := New(Options{Workers: 2, Key: byPayload})
	for i := 0; i < 10; i++ {
		s.Schedule(context.Background(), dispatch(rec, fmt.Sprint("d", i), fmt.Sprint(i%3)))
	}
	drain(t, s)
	if got := len(rec.handled()); got != 10 {
		t.Errorf("handled %d events before shutdown returned, want all 10", got)
	}
	if err := s.Schedule(context.Background(), dispatch(rec, "late", "x")); !errors.Is(err, githubapp.ErrCapacityExceeded) {
		t.Errorf("Schedule after shutdown = %v, want ErrCapacityExceeded", err)
	}
}

func TestShutdownTimeoutCancelsHandlers(t *testing.T) {
	rec := &recorder{handle: func(ctx context.Context, _ string, _ []byte) error { <-ctx.Done(); return ctx.Err() }}
	s := New(Options{Workers: 1, Key: byPayload})
	s.Schedule(context.Background(), dispatch(rec, "stuck", "a"))
	s.Schedule(context.Background(), dispatch(rec, "never", "a"))
	waitFor(t, func() bool { return len(rec.handled()) == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want DeadlineExceeded", err)
	}
	if got := fmt.Sprint(rec.handled()); got != "[stuck]" {
		t.Errorf("handled %s, want [stuck]: the queued event is dropped", got)
	}
}

func TestPanicIsAFailure(t *testing.T) {
	calls := 0
	rec := &recorder{handle: func(context.Context, string, []byte) error {
		calls++
		if calls == 1 {
			panic("boom")
		}
		return nil
	}}
	s := New(Options{Workers: 1, Key: byPayload})
	s.Schedule(context.Background(), dispatch(rec, "p", "a"))
	waitFor(t, s.idle)
	s.Schedule(context.Background(), dispatch(rec, "p", "a"))
	drain(t, s)
	if len(rec.handled()) != 2 {
		t.Errorf("a redelivery after a panic was not handled: %v", rec.handled())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// idle reports that nothing waits or runs; a finished event's delivery id
// is recorded under the same lock, so the next Schedule sees it.
func (s *Scheduler) idle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiting == 0 && s.busy == 0
}

func TestDetachedWorkHoldsTheKeyNotTheWorker(t *testing.T) {
	finish := make(chan struct{})
	workDone := make(chan struct{})
	rec := &recorder{handle: func(ctx context.Context, id string, _ []byte) error {
		if id == "apply" {
			done := Detach(ctx)
			if done == nil {
				t.Error("Detach returned nil inside the scheduler")
				return nil
			}
			go func() {
				defer done()
				<-finish
				close(workDone)
			}()
		}
		return nil
	}}
	// One worker: if the detached work held it, the other PR could not run.
	s := New(Options{Workers: 1, Key: byPayload})
	s.Schedule(context.Background(), dispatch(rec, "apply", "acme/app#1"))
	s.Schedule(context.Background(), dispatch(rec, "after-apply", "acme/app#1"))
	s.Schedule(context.Background(), dispatch(rec, "other-pr", "acme/app#2"))

	deadline := time.Now().Add(5 * time.Second)
	for !contains(rec.handled(), "other-pr") {
		if time.Now().After(deadline) {
			t.Fatalf("another PR's event did not run while detached work held #1: handled %v", rec.handled())
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if contains(rec.handled(), "after-apply") {
		t.Fatalf("the next event of #1 ran before its detached work finished: %v", rec.handled())
	}
	close(finish)
	drain(t, s)
	<-workDone
	if got := rec.handled(); fmt.Sprint(got) != "[apply other-pr after-apply]" {
		t.Errorf("order = %v", got)
	}
	if Detach(context.Background()) != nil {
		t.Error("Detach outside a scheduler should be nil")
	}
}

func TestShutdownWaitsForDetachedWork(t *testing.T) {
	var finished atomic.Bool
	rec := &recorder{handle: func(ctx context.Context, _ string, _ []byte) error {
		done := Detach(ctx)
		go func() {
			defer done()
			time.Sleep(100 * time.Millisecond)
			finished.Store(true)
		}()
		return nil
	}}
	s := New(Options{Workers: 2, Key: byPayload})
	s.Schedule(context.Background(), dispatch(rec, "d1", "acme/app#1"))
	for len(rec.handled()) == 0 {
		time.Sleep(time.Millisecond)
	}
	drain(t, s)
	if !finished.Load() {
		t.Error("Shutdown returned before the detached work finished")
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
