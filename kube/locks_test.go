package kube

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ListLocks finds every held lock with its holder, and nothing else: not
// a released lock, not an apply mutex, not a Lease whose name does not
// match the repository and environment it claims.
func TestListLocks(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	c := testCluster(t)
	a, b, freed := uniqueSet(t, "staging"), uniqueSet(t, "prod"), uniqueSet(t, "qa")
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	for _, s := range []ApplySet{a, b, freed} {
		if _, err := AcquireLock(ctx, c, s, LockInfo{Holder: s.Repo + "#3", By: "bob", Head: "aaaa", At: at}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ReleaseLock(ctx, c, freed, freed.Repo+"#3"); err != nil {
		t.Fatal(err)
	}
	// A copy of a's lock, under a's name, claims another environment.
	other := uniqueSet(t, "dev")
	l := getLease(t, c, a.LockName())
	fake := l.DeepCopy()
	fake.ObjectMeta = metav1.ObjectMeta{Name: a.LockName() + "-copy", Namespace: SystemNamespace, Labels: l.Labels, Annotations: l.Annotations}
	fake.Annotations[AnnotationRepository], fake.Annotations[AnnotationEnvironment] = other.Repo, other.Env
	if _, err := c.Coordination.Leases(SystemNamespace).Create(ctx, fake, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	locks, err := ListLocks(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []ApplySet{a, b} {
		got, ok := locks[s]
		if !ok || got.Holder != s.Repo+"#3" || got.By != "bob" || !got.At.Equal(at) {
			t.Errorf("lock of %s = %+v (found %v)", s.Env, got, ok)
		}
	}
	if _, ok := locks[freed]; ok {
		t.Errorf("a released lock is listed")
	}
	if got, ok := locks[other]; ok {
		t.Errorf("a Lease whose name does not match is listed as %s's lock: %+v", other.Env, got)
	}
}
