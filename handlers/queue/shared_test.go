package queue

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
)

// sharedFake is a Locker and SeenStore standing in for the home cluster's
// Leases and delivery ring (those are tested against a real control plane
// in package kube): it records lock and unlock order.
type sharedFake struct {
	mu      sync.Mutex
	events  []string
	held    map[string]bool
	seen    map[string]bool
	failKey string
}

func newSharedFake() *sharedFake {
	return &sharedFake{held: map[string]bool{}, seen: map[string]bool{}}
}

func (f *sharedFake) Lock(ctx context.Context, key string) (context.Context, func(), error) {
	f.mu.Lock()
	fail := key == f.failKey
	f.mu.Unlock()
	if fail {
		<-ctx.Done()
		return nil, nil, context.Cause(ctx)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.held[key] {
		return nil, nil, errors.New("locked twice")
	}
	f.held[key] = true
	f.events = append(f.events, "lock "+key)
	held, cancel := context.WithCancel(ctx)
	return held, func() {
		cancel()
		f.mu.Lock()
		defer f.mu.Unlock()
		f.held[key] = false
		f.events = append(f.events, "unlock "+key)
	}, nil
}

func (f *sharedFake) Seen(_ context.Context, id string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen[id], nil
}

func (f *sharedFake) Add(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen[id] = true
	f.events = append(f.events, "add "+id)
	return nil
}

func (f *sharedFake) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.events)
}

// TestSharedLockAndRecord: every event runs under its key's shared lock; a
// delivery another replica handled (in the shared record) is not run; a
// handled one is added to the record before the lock is let go; a failed
// one is not added, so a redelivery runs it.
func TestSharedLockAndRecord(t *testing.T) {
	f := newSharedFake()
	f.seen["other-replica"] = true
	rec := &recorder{handle: func(_ context.Context, id string, _ []byte) error {
		if id == "fails" {
			return errors.New("boom")
		}
		return nil
	}}
	s := New(Options{Workers: 1, Key: byPayload, Locker: f, Shared: f})
	for _, id := range []string{"d1", "other-replica", "fails"} {
		if err := s.Schedule(context.Background(), dispatch(rec, id, "acme/infra#1")); err != nil {
			t.Fatal(err)
		}
	}
	drain(t, s)
	if got := rec.handled(); !slices.Equal(got, []string{"d1", "fails"}) {
		t.Errorf("handled %v, want d1 and fails (other-replica was handled elsewhere)", got)
	}
	want := []string{"lock acme/infra#1", "add d1", "unlock acme/infra#1", "lock acme/infra#1", "unlock acme/infra#1", "lock acme/infra#1", "unlock acme/infra#1"}
	if got := f.log(); !slices.Equal(got, want) {
		t.Errorf("shared calls:\n got %v\nwant %v", got, want)
	}
}

// TestSharedLockHeldByDetachedWork: an event that detaches its work keeps
// the shared lock until the work is done.
func TestSharedLockHeldByDetachedWork(t *testing.T) {
	f := newSharedFake()
	release := make(chan struct{})
	finished := make(chan struct{})
	rec := &recorder{handle: func(ctx context.Context, _ string, _ []byte) error {
		done := Detach(ctx)
		go func() {
			<-release
			done()
			close(finished)
		}()
		return nil
	}}
	s := New(Options{Workers: 1, Key: byPayload, Locker: f, Shared: f})
	if err := s.Schedule(context.Background(), dispatch(rec, "d1", "acme/infra#2")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Contains(f.log(), "add d1") {
		if time.Now().After(deadline) {
			t.Fatal("the event never ran")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if slices.Contains(f.log(), "unlock acme/infra#2") {
		t.Fatal("the shared lock was let go while the detached work ran")
	}
	close(release)
	<-finished
	drain(t, s)
	if got := f.log(); got[len(got)-1] != "unlock acme/infra#2" {
		t.Errorf("shared calls %v: want the unlock last", got)
	}
}

// TestSharedLockWaitBounded: an event whose lock cannot be had within
// LockWait fails (not marked handled) instead of holding a worker forever.
func TestSharedLockWaitBounded(t *testing.T) {
	f := newSharedFake()
	f.failKey = "acme/infra#3"
	rec := &recorder{}
	s := New(Options{Workers: 1, Key: byPayload, Locker: f, Shared: f, LockWait: 100 * time.Millisecond})
	if err := s.Schedule(context.Background(), dispatch(rec, "d1", "acme/infra#3")); err != nil {
		t.Fatal(err)
	}
	drain(t, s)
	if got := rec.handled(); len(got) != 0 {
		t.Errorf("handled %v without its lock", got)
	}
	if f.seen["d1"] {
		t.Error("a delivery that never ran was recorded as handled")
	}
}

// TestSharedLockFailureLeavesRedeliveryPossible: after an event failed for
// want of its lock, the same delivery id delivered again runs.
func TestSharedLockFailureLeavesRedeliveryPossible(t *testing.T) {
	f := newSharedFake()
	f.failKey = "acme/infra#4"
	rec := &recorder{}
	s := New(Options{Workers: 1, Key: byPayload, Locker: f, Shared: f, LockWait: 100 * time.Millisecond})
	if err := s.Schedule(context.Background(), dispatch(rec, "d1", "acme/infra#4")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		idle := s.waiting == 0 && s.busy == 0
		s.mu.Unlock()
		if idle {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the event never finished")
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.mu.Lock()
	f.failKey = ""
	f.mu.Unlock()
	if err := s.Schedule(context.Background(), dispatch(rec, "d1", "acme/infra#4")); err != nil {
		t.Fatal(err)
	}
	drain(t, s)
	if got := rec.handled(); !slices.Equal(got, []string{"d1"}) {
		t.Errorf("handled %v, want the redelivery of d1 run once", got)
	}
}

// TestLocalLockerOneHolderPerKey: a second Lock of a key waits for the
// first's unlock; other keys do not; a wait ends with its context.
func TestLocalLockerOneHolderPerKey(t *testing.T) {
	l := NewLocalLocker()
	_, unlock, err := l.Lock(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	if _, u, err := l.Lock(context.Background(), "b"); err != nil {
		t.Fatalf("another key: %v", err)
	} else {
		u()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := l.Lock(ctx, "a"); err == nil {
		t.Fatal("a held key was locked again")
	}
	got := make(chan struct{})
	go func() {
		_, u, err := l.Lock(context.Background(), "a")
		if err == nil {
			u()
		}
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("took a held key")
	case <-time.After(50 * time.Millisecond):
	}
	unlock()
	unlock() // twice is harmless
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("the waiter never got the released key")
	}
}

// TestUnkeyedEventsTakeNoSharedLock: an event keyed "" (no handler acts on
// it) runs without the shared lock or record, and does not wait for
// another unkeyed event.
func TestUnkeyedEventsTakeNoSharedLock(t *testing.T) {
	f := newSharedFake()
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(2)
	rec := &recorder{handle: func(context.Context, string, []byte) error {
		started.Done()
		<-release
		return nil
	}}
	s := New(Options{Workers: 2, Key: func(githubapp.Dispatch) string { return "" }, Locker: f, Shared: f})
	for _, id := range []string{"own-comment", "branch-push"} {
		if err := s.Schedule(context.Background(), dispatch(rec, id, "x")); err != nil {
			t.Fatal(err)
		}
	}
	ran := make(chan struct{})
	go func() { started.Wait(); close(ran) }()
	select {
	case <-ran: // both ran at once: no order among unkeyed events
	case <-time.After(5 * time.Second):
		t.Fatal("unkeyed events were serialized")
	}
	close(release)
	drain(t, s)
	if got := f.log(); len(got) != 0 {
		t.Errorf("unkeyed events used the shared lock or record: %v", got)
	}
}
