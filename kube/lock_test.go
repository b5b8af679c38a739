package kube

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestLockLifecycle: the first PR takes the lock, a re-apply keeps it,
// another PR is refused with the holder's name and cannot release it, the
// holder releases it, and then the other PR can take it.
func TestLockLifecycle(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	c := testCluster(t)
	set := uniqueSet(t, "staging")
	mine, theirs := set.Repo+"#12", set.Repo+"#13"

	if info, err := ReadLock(ctx, c, set); err != nil || info != nil {
		t.Fatalf("before any apply: %+v, %v", info, err)
	}
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	taken, err := AcquireLock(ctx, c, set, LockInfo{Holder: mine, By: "bob", Head: "aaaa", At: at})
	if err != nil || !taken {
		t.Fatalf("first acquire: taken=%v err=%v", taken, err)
	}
	l := getLease(t, c, "tugboat-lock-staging-"+set.Hash())
	if l == nil {
		t.Fatalf("no Lease %s/tugboat-lock-staging-%s", SystemNamespace, set.Hash())
	}
	if got := *l.Spec.HolderIdentity; got != mine {
		t.Errorf("holderIdentity = %q, want %q", got, mine)
	}
	if l.Spec.LeaseDurationSeconds != nil {
		t.Errorf("leaseDurationSeconds = %d, want none: a PR lock never expires", *l.Spec.LeaseDurationSeconds)
	}
	wantAnn := map[string]string{
		AnnotationLockedBy: "bob", AnnotationLockedHead: "aaaa", AnnotationLockedAt: "2025-03-01T10:00:00Z",
		AnnotationRepository: set.Repo, AnnotationEnvironment: "staging",
	}
	for k, v := range wantAnn {
		if l.Annotations[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, l.Annotations[k], v)
		}
	}
	if l.Labels[LabelLease] != LeaseLock || l.Labels[LabelSetHash] != set.Hash() || l.Labels[LabelEnvironment] != "staging" {
		t.Errorf("labels = %v", l.Labels)
	}
	acquired := l.Spec.AcquireTime.Time

	// A re-apply by the same PR keeps the lock and says who and which head.
	taken, err = AcquireLock(ctx, c, set, LockInfo{Holder: mine, By: "carol", Head: "bbbb", At: at.Add(time.Hour)})
	if err != nil || taken {
		t.Fatalf("re-acquire by the holder: taken=%v err=%v", taken, err)
	}
	info, err := ReadLock(ctx, c, set)
	if err != nil {
		t.Fatal(err)
	}
	if want := (LockInfo{Holder: mine, By: "carol", Head: "bbbb", At: at.Add(time.Hour)}); *info != want {
		t.Errorf("after re-acquire: %+v, want %+v", *info, want)
	}
	if l := getLease(t, c, set.LockName()); !l.Spec.AcquireTime.Time.Equal(acquired) {
		t.Errorf("re-acquire moved acquireTime from %v to %v", acquired, l.Spec.AcquireTime.Time)
	}

	// Another PR: refused, naming the holder; the lock is untouched.
	before := getLease(t, c, set.LockName()).ResourceVersion
	taken, err = AcquireLock(ctx, c, set, LockInfo{Holder: theirs, By: "mallory", Head: "cccc"})
	var locked *LockedError
	if taken || !errors.As(err, &locked) {
		t.Fatalf("acquire by another PR: taken=%v err=%v, want a *LockedError", taken, err)
	}
	if locked.Lock.Holder != mine || locked.Lock.By != "carol" || locked.Env != "staging" {
		t.Errorf("LockedError = %+v", locked)
	}
	if want := "environment staging is locked by " + mine; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if rv := getLease(t, c, set.LockName()).ResourceVersion; rv != before {
		t.Errorf("a refused acquire changed the Lease (resourceVersion %s → %s)", before, rv)
	}
	if err := ReleaseLock(ctx, c, set, theirs); !errors.As(err, &locked) || locked.Lock.Holder != mine {
		t.Fatalf("release by another PR: %v, want a *LockedError naming %s", err, mine)
	}
	if getLease(t, c, set.LockName()) == nil {
		t.Fatal("release by another PR deleted the lock")
	}

	// The holder releases; releasing again is not an error.
	if err := ReleaseLock(ctx, c, set, mine); err != nil {
		t.Fatal(err)
	}
	if getLease(t, c, set.LockName()) != nil {
		t.Fatal("the Lease is still there after release")
	}
	if info, err := ReadLock(ctx, c, set); err != nil || info != nil {
		t.Fatalf("after release: %+v, %v", info, err)
	}
	if err := ReleaseLock(ctx, c, set, mine); err != nil {
		t.Fatalf("second release: %v", err)
	}
	if taken, err := AcquireLock(ctx, c, set, LockInfo{Holder: theirs, By: "mallory"}); err != nil || !taken {
		t.Fatalf("acquire after release: taken=%v err=%v", taken, err)
	}
}

// TestLockIsPerRepositoryAndEnvironment: two repositories' "prod" and one
// repository's two environments have locks of their own.
func TestLockIsPerRepositoryAndEnvironment(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	c := testCluster(t)
	a := uniqueSet(t, "prod")
	b := uniqueSet(t, "prod")
	a2 := ApplySet{Repo: a.Repo, Env: "staging"}
	for _, s := range []ApplySet{a, b, a2} {
		if taken, err := AcquireLock(ctx, c, s, LockInfo{Holder: s.Repo + "#1"}); err != nil || !taken {
			t.Fatalf("%+v: taken=%v err=%v", s, taken, err)
		}
	}
}

// TestLockTakenByExactlyOne: PRs racing for a free environment — one wins,
// every other is told who.
func TestLockTakenByExactlyOne(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	c := testCluster(t)
	set := uniqueSet(t, "prod")
	const n = 8
	var wg sync.WaitGroup
	taken := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			taken[i], errs[i] = AcquireLock(ctx, c, set, LockInfo{Holder: fmt.Sprintf("%s#%d", set.Repo, i+1)})
		}()
	}
	wg.Wait()
	winner := -1
	for i := range n {
		if taken[i] {
			if winner >= 0 {
				t.Fatalf("both #%d and #%d took the lock", winner+1, i+1)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatalf("nobody took the lock: %v", errs)
	}
	want := fmt.Sprintf("%s#%d", set.Repo, winner+1)
	for i := range n {
		if i == winner {
			continue
		}
		var locked *LockedError
		if !errors.As(errs[i], &locked) || locked.Lock.Holder != want {
			t.Errorf("#%d: %v, want locked by %s", i+1, errs[i], want)
		}
	}
	if info, _ := ReadLock(ctx, c, set); info == nil || info.Holder != want {
		t.Errorf("ReadLock = %+v, want holder %s", info, want)
	}
}

// TestReleaseLockNeverDeletesALockTakenInBetween: the lock changes hands
// between ReleaseLock's read and its delete (another replica ran /unlock,
// and another PR applied). The delete's precondition fails, and the new
// holder keeps the lock.
func TestReleaseLockNeverDeletesALockTakenInBetween(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	c := testCluster(t)
	set := uniqueSet(t, "prod")
	mine, theirs := set.Repo+"#1", set.Repo+"#2"
	if _, err := AcquireLock(ctx, c, set, LockInfo{Holder: mine}); err != nil {
		t.Fatal(err)
	}
	err := releaseLock(ctx, c, set, mine, func() {
		if err := ReleaseLock(ctx, c, set, mine); err != nil {
			t.Errorf("unlock in between: %v", err)
		}
		if taken, err := AcquireLock(ctx, c, set, LockInfo{Holder: theirs}); !taken || err != nil {
			t.Errorf("re-take in between: taken=%v err=%v", taken, err)
		}
	})
	var locked *LockedError
	if !errors.As(err, &locked) || locked.Lock.Holder != theirs {
		t.Fatalf("release = %v, want a *LockedError naming %s", err, theirs)
	}
	if info, _ := ReadLock(ctx, c, set); info == nil || info.Holder != theirs {
		t.Fatalf("lock after the race: %+v, want held by %s", info, theirs)
	}

	// The holder re-applying between the read and the delete changes the
	// Lease too; the release reads again and still releases.
	calls := 0
	err = releaseLock(ctx, c, set, theirs, func() {
		calls++
		if calls == 1 {
			if _, err := AcquireLock(ctx, c, set, LockInfo{Holder: theirs, Head: "new"}); err != nil {
				t.Errorf("re-apply in between: %v", err)
			}
		}
	})
	if err != nil || calls != 2 {
		t.Fatalf("release after a re-apply in between: %v (reads: %d, want 2)", err, calls)
	}
	if info, _ := ReadLock(ctx, c, set); info != nil {
		t.Fatalf("still locked: %+v", info)
	}
}

// TestLockCreatesSystemNamespace: a cluster without tugboat-system gets it
// at the first lock.
func TestLockCreatesSystemNamespace(t *testing.T) {
	ctx := testCtx(t, 2*time.Minute)
	c := testCluster(t)
	nss := c.Dynamic.Resource(namespaceGVR)
	if err := nss.Delete(ctx, SystemNamespace, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	for {
		_, err := nss.Get(ctx, SystemNamespace, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("namespace %s never went away", SystemNamespace)
		}
		time.Sleep(200 * time.Millisecond)
	}
	set := uniqueSet(t, "prod")
	if taken, err := AcquireLock(ctx, c, set, LockInfo{Holder: set.Repo + "#1"}); err != nil || !taken {
		t.Fatalf("acquire without the namespace: taken=%v err=%v", taken, err)
	}
	if info, err := ReadLock(ctx, c, set); err != nil || info == nil {
		t.Fatalf("read back: %+v, %v", info, err)
	}
}

func TestLockNeedsHolder(t *testing.T) {
	_, err := AcquireLock(context.Background(), testCluster(t), uniqueSet(t, "prod"), LockInfo{By: "bob"})
	if err == nil || !strings.Contains(err.Error(), "no holder") {
		t.Fatalf("err = %v", err)
	}
}
