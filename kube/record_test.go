package kube

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestHistoryNewestFirstCapped: every record adds a deploy, newest first;
// an outcome replaces its own in-progress entry; a start that never got an
// outcome stays in the history as in progress; ten deploys are kept.
func TestHistoryNewestFirstCapped(t *testing.T) {
	var inv Inventory
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := func(i int, o Outcome) Record {
		return Record{
			Commit: fmt.Sprintf("c%02d", i), PR: i, Head: fmt.Sprintf("h%02d", i), Digest: fmt.Sprintf("d%02d", i),
			Outcome: o, Time: t0.Add(time.Duration(i) * time.Minute), Trigger: TriggerApply,
		}
	}
	SetRecord(&inv, rec(1, OutcomeInProgress))
	SetRecord(&inv, rec(1, OutcomeConverged))
	if h := RecordFrom(&inv).History; len(h) != 1 || h[0].Outcome != OutcomeConverged || h[0].Commit != "c01" {
		t.Fatalf("start + outcome of one deploy: %+v", h)
	}
	// Interrupted: deploy 2 never recorded an outcome before deploy 3.
	SetRecord(&inv, rec(2, OutcomeInProgress))
	SetRecord(&inv, rec(3, OutcomeInProgress))
	SetRecord(&inv, rec(3, OutcomeFailed))
	h := RecordFrom(&inv).History
	if len(h) != 3 || h[0].Commit != "c03" || h[0].Outcome != OutcomeFailed || h[1].Commit != "c02" || h[1].Outcome != OutcomeInProgress || h[2].Commit != "c01" {
		t.Fatalf("history = %+v", h)
	}
	// A converged entry is never replaced, even by the same deploy again.
	SetRecord(&inv, rec(3, OutcomeConverged))
	SetRecord(&inv, rec(3, OutcomeConverged))
	if h := RecordFrom(&inv).History; len(h) != 5 {
		t.Fatalf("history has %d entries, want 5", len(h))
	}
	for i := 4; i <= 20; i++ {
		SetRecord(&inv, rec(i, OutcomeInProgress))
		SetRecord(&inv, rec(i, OutcomeConverged))
	}
	r := RecordFrom(&inv)
	if len(r.History) != MaxHistory {
		t.Fatalf("history has %d entries, want %d", len(r.History), MaxHistory)
	}
	for i, d := range r.History {
		want := Deploy{
			Commit: fmt.Sprintf("c%02d", 20-i), PR: 20 - i, Head: fmt.Sprintf("h%02d", 20-i), Digest: fmt.Sprintf("d%02d", 20-i),
			Outcome: OutcomeConverged, Time: t0.Add(time.Duration(20-i) * time.Minute), Trigger: TriggerApply,
		}
		if d != want {
			t.Errorf("entry %d = %+v, want %+v", i, d, want)
		}
	}
	if want := rec(20, OutcomeConverged); r.Commit != want.Commit || r.Head != want.Head || r.PR != 20 || r.Trigger != TriggerApply || !r.Time.Equal(want.Time) {
		t.Errorf("record = %+v", r)
	}
}

// TestHistorySizeCapped: whatever callers put in, the history annotation
// stays small and parses.
func TestHistorySizeCapped(t *testing.T) {
	var inv Inventory
	huge := strings.Repeat("x", 100_000)
	for i := range 30 {
		SetRecord(&inv, Record{Commit: huge, Head: huge, Digest: huge, Trigger: huge, Outcome: OutcomeConverged, PR: i + 1, Time: time.Now()})
	}
	if n := len(inv.Annotations[AnnotationHistory]); n > maxHistoryBytes {
		t.Fatalf("history annotation is %d bytes, want at most %d", n, maxHistoryBytes)
	}
	h := RecordFrom(&inv).History
	if len(h) == 0 || h[0].PR != 30 || len(h[0].Commit) > maxHistoryField {
		t.Fatalf("history = %+v", h)
	}
	// A history edited into nonsense reads as empty and starts again.
	inv.Annotations[AnnotationHistory] = "{not json"
	SetRecord(&inv, Record{Commit: "abc", Outcome: OutcomeConverged, Time: time.Now()})
	if h := RecordFrom(&inv).History; len(h) != 1 || h[0].Commit != "abc" {
		t.Fatalf("history after a broken annotation = %+v", h)
	}
}

// TestRecordRoundTrip: what SetRecord writes, the cluster keeps and
// RecordFrom reads back — also the removal of a failure message.
func TestRecordRoundTrip(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	c := testCluster(t)
	set := uniqueSet(t, "prod")
	inv := Inventory{GroupKinds: []schema.GroupKind{{Kind: "ConfigMap"}}, Namespaces: []string{"app"}}
	failed := Record{Commit: "c1", PR: 4, Head: "h1", Digest: "d1", Outcome: OutcomeFailed, Message: "boom", Trigger: TriggerApply, Time: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)}
	SetRecord(&inv, failed)
	if err := WriteInventory(ctx, c, set, inv); err != nil {
		t.Fatal(err)
	}
	read, err := ReadInventory(ctx, c, set)
	if err != nil {
		t.Fatal(err)
	}
	got := RecordFrom(read)
	failed.History = []Deploy{{Commit: "c1", PR: 4, Head: "h1", Digest: "d1", Outcome: OutcomeFailed, Trigger: TriggerApply, Time: failed.Time}}
	if !reflect.DeepEqual(got, failed) {
		t.Fatalf("read back %+v\nwant      %+v", got, failed)
	}
	merged := Record{Commit: "c2", Digest: "d2", Outcome: OutcomeConverged, Trigger: TriggerMerge, Time: failed.Time.Add(time.Hour)}
	SetRecord(read, merged)
	if err := WriteInventory(ctx, c, set, *read); err != nil {
		t.Fatal(err)
	}
	parent := getParent(t, c, set)
	ann := parent.GetAnnotations()
	for _, gone := range []string{AnnotationLastMessage, AnnotationLastPR, AnnotationLastHead} {
		if v, ok := ann[gone]; ok {
			t.Errorf("%s = %q is left over from the previous record", gone, v)
		}
	}
	if ann[AnnotationLastTrigger] != TriggerMerge || ann[AnnotationRepository] != set.Repo || ann[AnnotationEnvironment] != "prod" {
		t.Errorf("annotations = %v", ann)
	}
	if h := RecordFrom(inventoryFromParent(parent)).History; len(h) != 2 || h[0].Commit != "c2" || h[1].Commit != "c1" {
		t.Errorf("history = %+v", h)
	}
}

func getParent(t *testing.T, c *Cluster, set ApplySet) *unstructured.Unstructured {
	t.Helper()
	p, err := c.Dynamic.Resource(secretGVR).Namespace(SystemNamespace).Get(context.Background(), set.ParentName(), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// setParentAnnotation edits the parent as someone else would.
func setParentAnnotation(t *testing.T, c *Cluster, set ApplySet, key, value string) {
	t.Helper()
	p := getParent(t, c, set)
	ann := p.GetAnnotations()
	if value == "" {
		delete(ann, key)
	} else {
		ann[key] = value
	}
	p.SetAnnotations(ann)
	if _, err := c.Dynamic.Resource(secretGVR).Namespace(SystemNamespace).Update(context.Background(), p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestInventoryRefusesAnotherOwner: a parent whose name matches but which
// records another repository or environment (their 40-bit hashes
// collided) is neither read nor written.
func TestInventoryRefusesAnotherOwner(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	c := testCluster(t)
	for _, tc := range []struct{ key, value, want string }{
		{AnnotationRepository, "other/repo", `belongs to other/repo environment "prod"`},
		{AnnotationEnvironment, "staging", `environment "staging", not to`},
	} {
		set := uniqueSet(t, "prod")
		inv := Inventory{GroupKinds: []schema.GroupKind{{Kind: "ConfigMap"}}}
		SetRecord(&inv, Record{Commit: "c1", Outcome: OutcomeConverged, Time: time.Now()})
		if err := WriteInventory(ctx, c, set, inv); err != nil {
			t.Fatal(err)
		}
		setParentAnnotation(t, c, set, tc.key, tc.value)
		before := getParent(t, c, set).GetResourceVersion()

		_, err := ReadInventory(ctx, c, set)
		var owner *OwnerError
		if !errors.As(err, &owner) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), set.Repo) {
			t.Fatalf("read: %v, want an *OwnerError mentioning %q and %s", err, tc.want, set.Repo)
		}
		if err := WriteInventory(ctx, c, set, inv); !errors.As(err, &owner) {
			t.Fatalf("write: %v, want an *OwnerError", err)
		}
		if err := RecordCommit(ctx, c, set, Record{Commit: "c2", Outcome: OutcomeConverged}); !errors.As(err, &owner) {
			t.Fatalf("record: %v, want an *OwnerError", err)
		}
		if after := getParent(t, c, set).GetResourceVersion(); after != before {
			t.Fatalf("a refused write changed the parent (resourceVersion %s → %s)", before, after)
		}
	}

	// A parent written before owners were recorded is read, and the next
	// write records its owner.
	set := uniqueSet(t, "prod")
	if err := WriteInventory(ctx, c, set, Inventory{}); err != nil {
		t.Fatal(err)
	}
	setParentAnnotation(t, c, set, AnnotationRepository, "")
	setParentAnnotation(t, c, set, AnnotationEnvironment, "")
	if _, err := ReadInventory(ctx, c, set); err != nil {
		t.Fatalf("read of a parent without owner: %v", err)
	}
	if err := WriteInventory(ctx, c, set, Inventory{}); err != nil {
		t.Fatal(err)
	}
	if ann := getParent(t, c, set).GetAnnotations(); ann[AnnotationRepository] != set.Repo || ann[AnnotationEnvironment] != "prod" {
		t.Fatalf("owner not recorded: %v", ann)
	}
}

// TestRecordCommit: a record-only update moves the record to a new commit
// and leaves the inventory and the history alone; an environment never
// applied gets a parent with an empty inventory.
func TestRecordCommit(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	c := testCluster(t)
	set := uniqueSet(t, "prod")
	inv := Inventory{
		GroupKinds: []schema.GroupKind{{Group: "apps", Kind: "Deployment"}, {Kind: "ConfigMap"}},
		Namespaces: []string{"b", "a"},
	}
	SetRecord(&inv, Record{Commit: "merge1", PR: 7, Head: "head7", Digest: "d7", Outcome: OutcomeConverged, Trigger: TriggerApply, Time: time.Now()})
	if err := WriteInventory(ctx, c, set, inv); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 5, 5, 5, 5, 5, 0, time.UTC)
	if err := RecordCommit(ctx, c, set, Record{Commit: "main2", PR: 7, Digest: "d7", Outcome: OutcomeConverged, Time: at}); err != nil {
		t.Fatal(err)
	}
	got, err := ReadInventory(ctx, c, set)
	if err != nil {
		t.Fatal(err)
	}
	if FormatGroupKinds(got.GroupKinds) != "ConfigMap,Deployment.apps" || strings.Join(got.Namespaces, ",") != "a,b" {
		t.Errorf("inventory changed: %+v", got)
	}
	r := RecordFrom(got)
	if r.Commit != "main2" || r.PR != 7 || r.Head != "" || r.Trigger != TriggerRecord || !r.Time.Equal(at) || r.Outcome != OutcomeConverged {
		t.Errorf("record = %+v", r)
	}
	if len(r.History) != 1 || r.History[0].Commit != "merge1" {
		t.Errorf("history = %+v, want only the apply of merge1", r.History)
	}

	fresh := uniqueSet(t, "staging")
	if err := RecordCommit(ctx, c, fresh, Record{Commit: "main2", Outcome: OutcomeConverged}); err != nil {
		t.Fatal(err)
	}
	got, err = ReadInventory(ctx, c, fresh)
	if err != nil || got == nil {
		t.Fatalf("read: %+v, %v", got, err)
	}
	if r := RecordFrom(got); len(got.GroupKinds) != 0 || len(got.Namespaces) != 0 || r.Commit != "main2" || r.Time.IsZero() || r.Trigger != TriggerRecord {
		t.Errorf("fresh parent: %+v, record %+v", got, r)
	}
}

// TestParentWriteIsConditional: a write based on a parent that changed
// since it was read fails instead of undoing the change.
func TestParentWriteIsConditional(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	c := testCluster(t)
	set := uniqueSet(t, "prod")
	if err := WriteInventory(ctx, c, set, Inventory{GroupKinds: []schema.GroupKind{{Kind: "ConfigMap"}}}); err != nil {
		t.Fatal(err)
	}
	stale := getParent(t, c, set).GetResourceVersion()
	if err := WriteInventory(ctx, c, set, Inventory{GroupKinds: []schema.GroupKind{{Kind: "Secret"}}}); err != nil {
		t.Fatal(err)
	}
	err := writeParent(ctx, c, set, Inventory{}, stale)
	if !apierrors.IsConflict(err) {
		t.Fatalf("write on a stale resourceVersion: %v, want a conflict", err)
	}
	if got, _ := ReadInventory(ctx, c, set); got == nil || FormatGroupKinds(got.GroupKinds) != "Secret" {
		t.Fatalf("inventory after the refused write: %+v", got)
	}
}
