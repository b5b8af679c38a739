package kube

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

// Short timings keep the suite fast; the lease duration is the shortest a
// Lease can say (whole seconds) with room for a loaded machine.
var testMutex = MutexOptions{LeaseDuration: 2 * time.Second, RenewDeadline: time.Second, RetryPeriod: 200 * time.Millisecond}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestMutexExcludesUntilReleased: while one process holds the mutex —
// renewing it well past its lease duration — another (even with the same
// process identity) waits; on release, the waiter gets it at once.
func TestMutexExcludesUntilReleased(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	c := testCluster(t)
	set := uniqueSet(t, "prod")
	id := ProcessIdentity()

	a, err := AcquireMutex(ctx, c, set, id, testMutex)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.Identity(), id+"/") {
		t.Errorf("identity %q does not name the process %q", a.Identity(), id)
	}
	holder, live, err := MutexHolder(ctx, c, set)
	if err != nil || holder != a.Identity() || !live {
		t.Fatalf("MutexHolder = %q, %v, %v; want %q live", holder, live, err, a.Identity())
	}
	l := getLease(t, c, "tugboat-mutex-prod-"+set.Hash())
	if l == nil || *l.Spec.LeaseDurationSeconds != 2 || l.Labels[LabelLease] != LeaseMutex || l.Labels[LabelSetHash] != set.Hash() {
		t.Fatalf("mutex Lease = %+v", l)
	}

	type result struct {
		m   *Mutex
		err error
		at  time.Time
	}
	got := make(chan result, 1)
	go func() {
		m, err := AcquireMutex(ctx, c, set, id, testMutex)
		got <- result{m, err, time.Now()}
	}()
	// Twice the lease duration: a live holder is never taken over.
	select {
	case r := <-got:
		t.Fatalf("second acquire returned while the first held the mutex: %+v", r)
	case <-time.After(2 * testMutex.LeaseDuration):
	}
	if isClosed(a.Lost()) {
		t.Fatal("the holder lost the mutex while renewing it")
	}
	if holder, live, _ := MutexHolder(ctx, c, set); holder != a.Identity() || !live {
		t.Fatalf("MutexHolder = %q, %v while the first holds it", holder, live)
	}

	released := time.Now()
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.err != nil {
		t.Fatal(r.err)
	}
	// A released mutex is taken at the waiter's next try, not after a
	// lease duration.
	if wait := r.at.Sub(released); wait > testMutex.LeaseDuration {
		t.Errorf("the waiter took %s to get a released mutex", wait)
	}
	if holder, live, _ := MutexHolder(ctx, c, set); holder != r.m.Identity() || !live || holder == a.Identity() {
		t.Fatalf("MutexHolder = %q, %v; want the second acquirer %q", holder, live, r.m.Identity())
	}
	if isClosed(a.Lost()) {
		t.Error("Lost closed by a release")
	}
	if err := r.m.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.m.Release(ctx); err != nil {
		t.Fatalf("second release: %v", err)
	}
	if holder, live, err := MutexHolder(ctx, c, set); holder != "" || live || err != nil {
		t.Fatalf("after release: %q, %v, %v", holder, live, err)
	}
}

// TestMutexAcquireGivesUpWithContext: a waiter whose context ends returns
// its error and leaves the holder be.
func TestMutexAcquireGivesUpWithContext(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	c := testCluster(t)
	set := uniqueSet(t, "prod")
	a, err := AcquireMutex(ctx, c, set, "host-a", testMutex)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Release(ctx)
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = AcquireMutex(short, c, set, "host-b", testMutex)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %s, long after its context ended", d)
	}
	if holder, live, _ := MutexHolder(ctx, c, set); holder != a.Identity() || !live {
		t.Fatalf("MutexHolder = %q, %v; want %q", holder, live, a.Identity())
	}
}

// putLease writes the mutex Lease as a process that is gone would have
// left it: renewed at renewed, never again.
func putLease(t *testing.T, c *Cluster, set ApplySet, holder string, renewed time.Time, seconds int32) {
	t.Helper()
	l := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: set.MutexName(), Namespace: SystemNamespace},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity:       &holder,
			LeaseDurationSeconds: &seconds,
			AcquireTime:          &metav1.MicroTime{Time: renewed},
			RenewTime:            &metav1.MicroTime{Time: renewed},
		},
	}
	leases := c.Coordination.Leases(SystemNamespace)
	if err := ensureSystemNamespace(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	// A live holder renews meanwhile: retry on conflict.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		old, err := leases.Get(context.Background(), l.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			_, err = leases.Create(context.Background(), l, metav1.CreateOptions{})
			return err
		}
		if err != nil {
			return err
		}
		l.ResourceVersion = old.ResourceVersion
		_, err = leases.Update(context.Background(), l, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMutexTakenOverFromAHolderThatStoppedRenewing: a process killed while
// holding the mutex leaves a Lease no one renews. It is taken over once it
// has gone a whole lease duration without renewal — never before.
func TestMutexTakenOverFromAHolderThatStoppedRenewing(t *testing.T) {
	for name, renewedAgo := range map[string]time.Duration{
		"just renewed":        0,
		"expired an hour ago": time.Hour,
	} {
		t.Run(name, func(t *testing.T) {
			ctx := testCtx(t, time.Minute)
			c := testCluster(t)
			set := uniqueSet(t, "prod")
			const dead = "bot-0-1-deadbeef/00000000"
			start := time.Now()
			putLease(t, c, set, dead, start.Add(-renewedAgo), 2)
			holder, live, err := MutexHolder(ctx, c, set)
			if err != nil || holder != dead || live != (renewedAgo == 0) {
				t.Fatalf("MutexHolder = %q, %v, %v; want %q live=%v", holder, live, err, dead, renewedAgo == 0)
			}
			m, err := AcquireMutex(ctx, c, set, "bot-1", testMutex)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Release(ctx)
			// Taken over only after the acquirer saw it unrenewed for the
			// whole duration, which started no earlier than start.
			if took := time.Since(start); took < 2*time.Second || took > 10*time.Second {
				t.Errorf("took over after %s, want between 2s and 10s", took)
			}
			if holder, live, _ := MutexHolder(ctx, c, set); holder != m.Identity() || !live {
				t.Fatalf("MutexHolder = %q, %v after takeover; want %q", holder, live, m.Identity())
			}
		})
	}
}

// TestMutexLostWhenTakenOver: a holder that can no longer renew (another
// process holds the Lease now) closes Lost within its renew deadline, and
// its Release leaves the new holder alone.
func TestMutexLostWhenTakenOver(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	c := testCluster(t)
	set := uniqueSet(t, "prod")
	m, err := AcquireMutex(ctx, c, set, "bot-a", testMutex)
	if err != nil {
		t.Fatal(err)
	}
	const thief = "bot-b/0000"
	putLease(t, c, set, thief, time.Now(), 60)
	select {
	case <-m.Lost():
	case <-time.After(testMutex.RenewDeadline + testMutex.RetryPeriod + 5*time.Second):
		t.Fatal("Lost not closed after the mutex was taken over")
	}
	if err := m.Release(ctx); err != nil {
		t.Fatalf("release of a lost mutex: %v", err)
	}
	if holder, live, _ := MutexHolder(ctx, c, set); holder != thief || !live {
		t.Fatalf("MutexHolder = %q, %v; the release of a lost mutex must leave %q", holder, live, thief)
	}
}

func TestMutexOptionsChecked(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	c := testCluster(t)
	for _, tc := range []struct {
		id   string
		opt  MutexOptions
		want string
	}{
		{"", testMutex, "no identity"},
		{"bot", MutexOptions{LeaseDuration: 1500 * time.Millisecond}, "not whole seconds"},
		{"bot", MutexOptions{LeaseDuration: 2 * time.Second, RenewDeadline: 3 * time.Second}, "leaseDuration must be greater than renewDeadline"},
	} {
		if _, err := AcquireMutex(ctx, c, uniqueSet(t, "prod"), tc.id, tc.opt); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q %+v: err = %v, want %q", tc.id, tc.opt, err, tc.want)
		}
	}
}
