package kube

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// homeNamespace is a namespace of the test's own, as a replica set's home.
func homeNamespace(t *testing.T) string {
	t.Helper()
	return "home-" + strings.TrimPrefix(uniqueSet(t, "x").Repo, "acme/r")
}

// putDeadLease writes Lease ns/name as a process that is gone would have
// left it: held by holder, renewed at renewed, never again.
func putDeadLease(t *testing.T, c *Cluster, ns, name, holder string, renewed time.Time, seconds int32) {
	t.Helper()
	if err := EnsureNamespace(context.Background(), c, ns); err != nil {
		t.Fatal(err)
	}
	l := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity: &holder, LeaseDurationSeconds: &seconds,
			AcquireTime: &metav1.MicroTime{Time: renewed}, RenewTime: &metav1.MicroTime{Time: renewed},
		},
	}
	if _, err := c.Coordination.Leases(ns).Create(context.Background(), l, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// replica is one Lead campaign with a loop that counts what it sees.
type replica struct {
	name    string
	cancel  context.CancelFunc
	done    chan struct{}
	leading atomic.Bool
	// ticks counts the loop's iterations; stopped is when its context
	// last ended.
	ticks   atomic.Int64
	mu      sync.Mutex
	stopped time.Time
	terms   int
}

func startReplica(t *testing.T, c *Cluster, ns, name string, running *atomic.Int32, overlap *atomic.Bool) *replica {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &replica{name: name, cancel: cancel, done: make(chan struct{})}
	loop := Loop{Name: "count", Run: func(ctx context.Context) {
		if running.Add(1) > 1 {
			overlap.Store(true)
		}
		r.mu.Lock()
		r.terms++
		r.mu.Unlock()
		for ctx.Err() == nil {
			r.ticks.Add(1)
			time.Sleep(20 * time.Millisecond)
		}
		running.Add(-1)
		r.mu.Lock()
		r.stopped = time.Now()
		r.mu.Unlock()
	}}
	go func() {
		defer close(r.done)
		err := Lead(ctx, c, LeaderOptions{Namespace: ns, Identity: name, Timing: testMutex,
			OnChange: func(leading bool) { r.leading.Store(leading) }}, loop)
		if err != nil {
			t.Errorf("Lead(%s): %v", name, err)
		}
	}()
	t.Cleanup(func() { cancel(); <-r.done })
	return r
}

func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func leaders(rs ...*replica) []*replica {
	var out []*replica
	for _, r := range rs {
		if r.leading.Load() {
			out = append(out, r)
		}
	}
	return out
}

// TestLeadOneAtATimeAndHandover: of three replicas exactly one runs the
// singleton loop; when it stops (its Lease released), another takes over
// well within a lease duration, and the loops of two terms never overlap.
func TestLeadOneAtATimeAndHandover(t *testing.T) {
	c := testCluster(t)
	ns := homeNamespace(t)
	var running atomic.Int32
	var overlap atomic.Bool
	rs := []*replica{
		startReplica(t, c, ns, "a", &running, &overlap),
		startReplica(t, c, ns, "b", &running, &overlap),
		startReplica(t, c, ns, "c", &running, &overlap),
	}
	waitUntil(t, "a leader", 20*time.Second, func() bool { return len(leaders(rs...)) == 1 && running.Load() == 1 })
	first := leaders(rs...)[0]
	// A lease duration and more later it still leads alone.
	time.Sleep(2 * testMutex.LeaseDuration)
	if ls := leaders(rs...); len(ls) != 1 || ls[0] != first {
		t.Fatalf("leaders changed while the first renewed: %v", ls)
	}
	before := map[*replica]int64{}
	for _, r := range rs {
		before[r] = r.ticks.Load()
	}
	time.Sleep(200 * time.Millisecond)
	for _, r := range rs {
		if moved := r.ticks.Load() != before[r]; moved != (r == first) {
			t.Errorf("replica %s ran its loop: %v, leading: %v", r.name, moved, r == first)
		}
	}
	l, err := c.Coordination.Leases(ns).Get(context.Background(), DefaultLeaderLease, metav1.GetOptions{})
	if err != nil || l.Labels[LabelLease] != LeaseLeader || !strings.HasPrefix(*l.Spec.HolderIdentity, first.name+"/") {
		t.Fatalf("leader Lease = %+v, %v; want held by %s", l, err, first.name)
	}

	stoppedAt := time.Now()
	first.cancel()
	<-first.done
	first.mu.Lock()
	loopStopped := first.stopped
	first.mu.Unlock()
	if loopStopped.IsZero() || loopStopped.Before(stoppedAt) {
		t.Fatalf("the old leader's loop did not stop when it stopped leading (stopped %v)", loopStopped)
	}
	waitUntil(t, "a new leader", testMutex.LeaseDuration, func() bool { return len(leaders(rs...)) == 1 && running.Load() == 1 })
	if took := time.Since(stoppedAt); took >= testMutex.LeaseDuration {
		t.Errorf("takeover after a release took %s, want less than a lease duration", took)
	}
	if overlap.Load() {
		t.Error("two replicas ran the singleton loop at once")
	}
}

// TestLeadTakesOverFromADeadLeader: a leader killed without releasing
// leaves a Lease nobody renews. Another replica leads only once that Lease
// went unrenewed for a whole lease duration, then runs the loop.
func TestLeadTakesOverFromADeadLeader(t *testing.T) {
	c := testCluster(t)
	ns := homeNamespace(t)
	died := time.Now()
	putDeadLease(t, c, ns, DefaultLeaderLease, "killed-replica/1", died, int32(testMutex.LeaseDuration/time.Second))
	var running atomic.Int32
	var overlap atomic.Bool
	r := startReplica(t, c, ns, "survivor", &running, &overlap)
	waitUntil(t, "the survivor to lead", 10*testMutex.LeaseDuration, func() bool { return running.Load() == 1 })
	if took := time.Since(died); took < testMutex.LeaseDuration {
		t.Fatalf("took over a Lease renewed %s ago, before its lease duration %s", took, testMutex.LeaseDuration)
	}
	if !r.leading.Load() {
		t.Error("OnChange did not report leading")
	}
}

// TestPRLeaseOneHolderAtATime: two replicas' handling of one pull request
// is serialized by its Lease; another pull request's Lease is independent;
// releasing hands over at once.
func TestPRLeaseOneHolderAtATime(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	c := testCluster(t)
	ns := homeNamespace(t)
	key := "acme/infra#7"
	a := &PRLocker{Cluster: c, Namespace: ns, Identity: "replica-a", Timing: testMutex}
	b := &PRLocker{Cluster: c, Namespace: ns, Identity: "replica-b", Timing: testMutex}

	heldA, unlockA, err := a.Lock(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	holder, live, err := PRLeaseHolder(ctx, c, ns, key)
	if err != nil || !live || !strings.HasPrefix(holder, "replica-a/") {
		t.Fatalf("PRLeaseHolder = %q, %v, %v; want replica-a live", holder, live, err)
	}
	if !strings.HasPrefix(PRLeaseName(key), "tugboat-pr-") || PRLeaseName(key) == PRLeaseName("acme/infra#8") {
		t.Fatalf("PRLeaseName(%q) = %q", key, PRLeaseName(key))
	}
	// Another pull request is not held up.
	other, unlockOther, err := b.Lock(testCtx(t, 5*time.Second), "acme/infra#8")
	if err != nil {
		t.Fatalf("another PR's lease: %v", err)
	}
	unlockOther()
	if other.Err() == nil {
		t.Error("the held context outlived unlock")
	}

	got := make(chan time.Time, 1)
	go func() {
		_, unlockB, err := b.Lock(ctx, key)
		if err != nil {
			t.Errorf("b.Lock: %v", err)
			close(got)
			return
		}
		got <- time.Now()
		unlockB()
	}()
	select {
	case <-got:
		t.Fatal("b took the PR's lease while a held and renewed it")
	case <-time.After(2 * testMutex.LeaseDuration):
	}
	if heldA.Err() != nil {
		t.Fatalf("a's held context ended while it renewed: %v", context.Cause(heldA))
	}
	released := time.Now()
	unlockA()
	select {
	case at := <-got:
		if at.Sub(released) >= testMutex.LeaseDuration {
			t.Errorf("b took the lease %s after the release, want less than a lease duration", at.Sub(released))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("b never took the released lease")
	}
	// Once nobody holds it, the Lease is deleted: the namespace does not
	// keep one per pull request ever seen.
	waitUntil(t, "the released lease deleted", 10*time.Second, func() bool {
		_, err := c.Coordination.Leases(ns).Get(ctx, PRLeaseName(key), metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
}

// TestPRLeaseTakenOverFromADeadHolder: a replica killed while handling a
// pull request leaves its Lease unrenewed; another takes it over after the
// lease duration, not before.
func TestPRLeaseTakenOverFromADeadHolder(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	c := testCluster(t)
	ns := homeNamespace(t)
	key := "acme/infra#9"
	died := time.Now()
	putDeadLease(t, c, ns, PRLeaseName(key), "killed/1", died, int32(testMutex.LeaseDuration/time.Second))
	if _, live, _ := PRLeaseHolder(ctx, c, ns, key); !live {
		t.Fatal("the dead holder's Lease is not live right after its last renewal")
	}
	l := &PRLocker{Cluster: c, Namespace: ns, Identity: "survivor", Timing: testMutex}
	_, unlock, err := l.Lock(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if took := time.Since(died); took < testMutex.LeaseDuration {
		t.Fatalf("took over after %s, before the lease duration %s", took, testMutex.LeaseDuration)
	}
	holder, live, err := PRLeaseHolder(ctx, c, ns, key)
	if err != nil || !live || !strings.HasPrefix(holder, "survivor/") {
		t.Fatalf("PRLeaseHolder = %q, %v, %v; want the survivor", holder, live, err)
	}
}

// TestDeliveryRingKeepsIDsAcrossRestartsAndReplicas: ids added by one
// replica are seen by another and by a restarted one (a new DeliveryRing on
// the same ConfigMap); concurrent adds all land; the oldest drop out beyond
// the size, and only those.
func TestDeliveryRingKeepsIDsAcrossRestartsAndReplicas(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	c := testCluster(t)
	ns := homeNamespace(t)
	const size = 50
	first := &DeliveryRing{Cluster: c, Namespace: ns, Size: size}
	if seen, err := first.Seen(ctx, "d-0"); err != nil || seen {
		t.Fatalf("Seen before any add = %v, %v", seen, err)
	}
	if err := first.Add(ctx, "d-0"); err != nil {
		t.Fatal(err)
	}
	// Three replicas add at once: conflicts are retried, nothing is lost.
	var wg sync.WaitGroup
	for r := range 3 {
		ring := &DeliveryRing{Cluster: testCluster(t), Namespace: ns, Size: size}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				if err := ring.Add(ctx, fmt.Sprintf("d-%d-%d", r, i)); err != nil {
					t.Errorf("replica %d add: %v", r, err)
				}
			}
		}()
	}
	wg.Wait()
	restarted := &DeliveryRing{Cluster: testCluster(t), Namespace: ns, Size: size}
	for _, id := range []string{"d-0", "d-0-9", "d-1-0", "d-2-5"} {
		if seen, err := restarted.Seen(ctx, id); err != nil || !seen {
			t.Errorf("restarted ring: Seen(%s) = %v, %v", id, seen, err)
		}
	}
	if seen, _ := restarted.Seen(ctx, "d-never"); seen {
		t.Error("an id never added is seen")
	}
	// Adding an id again keeps one copy.
	if err := restarted.Add(ctx, "d-0"); err != nil {
		t.Fatal(err)
	}
	// 31 ids so far; 20 more push the oldest out of a ring of 50.
	for i := range 20 {
		if err := restarted.Add(ctx, fmt.Sprintf("e-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if seen, _ := restarted.Seen(ctx, "d-0"); seen {
		t.Error("the oldest id is still in the ring past its size: a manual redelivery would be refused forever")
	}
	if seen, _ := restarted.Seen(ctx, "e-0"); !seen {
		t.Error("a recent id dropped out")
	}
	cm, err := c.Dynamic.Resource(configMapGVR).Namespace(ns).Get(ctx, DeliveryRingName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, _, _ := unstructured.NestedString(cm.Object, "data", "ids")
	if n := len(strings.Fields(data)); n != size {
		t.Errorf("ring holds %d ids, want %d", n, size)
	}
	if err := restarted.Add(ctx, "bad id"); err == nil {
		t.Error("an id with a space was accepted")
	}
}

// TestDeliveryRingGroupsConcurrentAdds: adds made at once by one replica's
// workers go into the ConfigMap in fewer writes than there are adds, and
// each Add returns only once its id is stored (another replica sees it).
func TestDeliveryRingGroupsConcurrentAdds(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	c := testCluster(t)
	ns := homeNamespace(t)
	ring := &DeliveryRing{Cluster: c, Namespace: ns}
	if err := ring.Add(ctx, "first"); err != nil {
		t.Fatal(err)
	}
	cms := c.Dynamic.Resource(configMapGVR).Namespace(ns)
	cm, err := cms.Get(ctx, DeliveryRingName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := cms.Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + DeliveryRingName, ResourceVersion: cm.GetResourceVersion()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	const adds = 40
	other := &DeliveryRing{Cluster: testCluster(t), Namespace: ns} // another replica
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range adds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			id := fmt.Sprintf("g-%d", i)
			if err := ring.Add(ctx, id); err != nil {
				t.Errorf("add %s: %v", id, err)
				return
			}
			if seen, err := other.Seen(ctx, id); err != nil || !seen {
				t.Errorf("Add(%s) returned before the id was stored: another replica's Seen = %v, %v", id, seen, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	writes := 0
	for done := false; !done; {
		select {
		case <-w.ResultChan():
			writes++
		case <-time.After(2 * time.Second):
			done = true
		}
	}
	if writes == 0 || writes >= adds {
		t.Fatalf("%d concurrent adds took %d writes of the ConfigMap, want at least one and fewer than %d", adds, writes, adds)
	}
	t.Logf("%d concurrent adds: %d writes", adds, writes)
	if err := ring.Add(ctx, "bad id"); err == nil {
		t.Error("an id with a space was accepted")
	}
}
