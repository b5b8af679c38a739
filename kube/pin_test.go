package kube

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestPinSurvivesApplyAndUnpins: a pin is listed with the record, is not
// part of the inventory, survives an apply's inventory write and a
// record-only update, and Unpin removes it; an environment never applied
// cannot be pinned.
func TestPinSurvivesApplyAndUnpins(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	c := testCluster(t)
	set, never := uniqueSet(t, "prod"), uniqueSet(t, "dev")
	inv := Inventory{GroupKinds: []schema.GroupKind{{Kind: "ConfigMap"}}}
	SetRecord(&inv, Record{Commit: "c1", Outcome: OutcomeConverged, Trigger: TriggerMerge, Time: time.Now()})
	if err := WriteInventory(ctx, c, set, inv); err != nil {
		t.Fatal(err)
	}
	if p, err := ReadPin(ctx, c, set); err != nil || p != nil {
		t.Fatalf("ReadPin before pinning = %+v, %v", p, err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	want := Pin{Commit: "c0", By: "alice", Time: at, RevertPR: 12, Reason: "rollback --now"}
	if err := SetPin(ctx, c, set, want); err != nil {
		t.Fatal(err)
	}
	if err := SetPin(ctx, c, never, want); err == nil {
		t.Error("pinned an environment never applied")
	}
	read, err := ReadInventory(ctx, c, set)
	if err != nil {
		t.Fatal(err)
	}
	for k := range read.Annotations {
		if IsPinAnnotation(k) {
			t.Errorf("inventory carries pin annotation %s: an apply would take it over", k)
		}
	}
	SetRecord(read, Record{Commit: "c2", Outcome: OutcomeConverged, Trigger: TriggerApply, Time: time.Now()})
	if err := WriteInventory(ctx, c, set, *read); err != nil {
		t.Fatal(err)
	}
	if err := RecordCommit(ctx, c, set, Record{Commit: "c3", Outcome: OutcomeConverged}); err != nil {
		t.Fatal(err)
	}
	p, err := ReadPin(ctx, c, set)
	if err != nil || p == nil || *p != want {
		t.Fatalf("pin after an apply and a record = %+v, %v; want %+v", p, err, want)
	}
	all, err := ListRecords(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	listed := false
	for _, r := range all {
		if r.Set == set {
			listed = r.Pin != nil && *r.Pin == want && r.Record.Commit == "c3"
		}
	}
	if !listed {
		t.Errorf("ListRecords does not show the pin with the record")
	}
	if err := Unpin(ctx, c, set); err != nil {
		t.Fatal(err)
	}
	if p, err := ReadPin(ctx, c, set); err != nil || p != nil {
		t.Fatalf("ReadPin after Unpin = %+v, %v", p, err)
	}
	if rec, err := ReadInventory(ctx, c, set); err != nil || RecordFrom(rec).Commit != "c3" {
		t.Fatalf("Unpin changed the record: %+v, %v", rec, err)
	}
	if err := Unpin(ctx, c, never); err != nil {
		t.Errorf("Unpin of an environment never applied: %v", err)
	}
}
