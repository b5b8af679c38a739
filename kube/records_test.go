package kube

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// recordsOf picks the listed records of the given sets (the cluster is
// shared with the package's other tests).
func recordsOf(t *testing.T, c *Cluster, sets ...ApplySet) map[ApplySet]Record {
	t.Helper()
	all, err := ListRecords(testCtx(t, time.Minute), c)
	if err != nil {
		t.Fatal(err)
	}
	want := map[ApplySet]bool{}
	for _, s := range sets {
		want[s] = true
	}
	out := map[ApplySet]Record{}
	for i, r := range all {
		if i > 0 && (all[i-1].Set.Repo > r.Set.Repo || all[i-1].Set.Repo == r.Set.Repo && all[i-1].Set.Env >= r.Set.Env) {
			t.Errorf("not sorted: %v before %v", all[i-1].Set, r.Set)
		}
		if want[r.Set] {
			out[r.Set] = r.Record
		}
	}
	return out
}

// TestListRecords: every parent tugboat wrote is listed with its owner and
// record; one without an owner, or a Secret merely labelled like a parent,
// is not.
func TestListRecords(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	c := testCluster(t)
	running, done, ownerless := uniqueSet(t, "staging"), uniqueSet(t, "prod"), uniqueSet(t, "qa")
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for set, o := range map[ApplySet]Outcome{running: OutcomeInProgress, done: OutcomeConverged, ownerless: OutcomeInProgress} {
		inv := Inventory{GroupKinds: []schema.GroupKind{{Kind: "ConfigMap"}}}
		SetRecord(&inv, Record{Commit: "c-" + set.Env, PR: 4, Head: "h-" + set.Env, Digest: "d", Outcome: o, Trigger: TriggerApply, Time: at})
		if err := WriteInventory(ctx, c, set, inv); err != nil {
			t.Fatal(err)
		}
	}
	setParentAnnotation(t, c, ownerless, AnnotationRepository, "")
	fake := uniqueSet(t, "dev")
	secret := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{
			"name": fake.ParentName(), "namespace": SystemNamespace,
			"labels":      map[string]any{LabelApplySetID: "applyset-someone-else-v1"},
			"annotations": map[string]any{AnnotationRepository: fake.Repo, AnnotationEnvironment: fake.Env, AnnotationApplySetTooling: "kubectl/v1.32"},
		},
	}}
	if _, err := c.Dynamic.Resource(secretGVR).Namespace(SystemNamespace).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	got := recordsOf(t, c, running, done, ownerless, fake)
	if len(got) != 2 {
		t.Fatalf("listed %d of the test's parents, want 2 (running, done): %+v", len(got), got)
	}
	if r := got[running]; r.Outcome != OutcomeInProgress || r.Commit != "c-staging" || r.Head != "h-staging" || r.PR != 4 || !r.Time.Equal(at) {
		t.Errorf("running = %+v", r)
	}
	if r := got[done]; r.Outcome != OutcomeConverged {
		t.Errorf("done = %+v", r)
	}
}

// TestFailInterrupted: an apply still recorded in progress becomes failed
// with the message, in the record and in its history entry; an apply that
// finished, or a newer one, is left as it is.
func TestFailInterrupted(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	c := testCluster(t)
	set := uniqueSet(t, "staging")
	inv := Inventory{GroupKinds: []schema.GroupKind{{Kind: "ConfigMap"}}}
	SetRecord(&inv, Record{Commit: "old", Outcome: OutcomeConverged, Trigger: TriggerMerge, Time: time.Now().Add(-time.Hour)})
	started := Record{Commit: "c1", PR: 9, Head: "h1", Digest: "d1", Outcome: OutcomeInProgress, Trigger: TriggerApply, Time: time.Now()}
	SetRecord(&inv, started)
	if err := WriteInventory(ctx, c, set, inv); err != nil {
		t.Fatal(err)
	}
	listed := recordsOf(t, c, set)[set]

	newer := listed
	newer.Time = newer.Time.Add(time.Second)
	if wrote, err := FailInterrupted(ctx, c, set, newer, "interrupted"); err != nil || wrote {
		t.Fatalf("a record of another start: wrote %v, %v", wrote, err)
	}
	wrote, err := FailInterrupted(ctx, c, set, listed, "interrupted — /apply again")
	if err != nil || !wrote {
		t.Fatalf("FailInterrupted = %v, %v; want a write", wrote, err)
	}
	got, err := ReadInventory(ctx, c, set)
	if err != nil {
		t.Fatal(err)
	}
	r := RecordFrom(got)
	if r.Outcome != OutcomeFailed || r.Message != "interrupted — /apply again" || r.Commit != "c1" || r.PR != 9 || r.Head != "h1" || r.Digest != "d1" {
		t.Errorf("record = %+v", r)
	}
	if len(r.History) != 2 || r.History[0].Outcome != OutcomeFailed || r.History[0].Commit != "c1" || r.History[1].Commit != "old" {
		t.Errorf("history = %+v", r.History)
	}
	if FormatGroupKinds(got.GroupKinds) != "ConfigMap" {
		t.Errorf("inventory changed: %+v", got.GroupKinds)
	}
	// Concluded already (by another replica): nothing more is written.
	before := getParent(t, c, set).GetResourceVersion()
	if wrote, err := FailInterrupted(ctx, c, set, listed, "interrupted"); err != nil || wrote {
		t.Fatalf("second FailInterrupted: wrote %v, %v", wrote, err)
	}
	if after := getParent(t, c, set).GetResourceVersion(); after != before {
		t.Errorf("the parent was written again")
	}
	if wrote, err := FailInterrupted(ctx, c, uniqueSet(t, "prod"), listed, "interrupted"); err != nil || wrote {
		t.Errorf("no parent: wrote %v, %v", wrote, err)
	}
}
