package kube

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestDriftSurvivesApply: the drift status written by a check is listed
// with the record, survives a later apply's inventory write (which does not
// own it), and is not written for an environment never applied.
func TestDriftSurvivesApply(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	c := testCluster(t)
	set, never := uniqueSet(t, "prod"), uniqueSet(t, "dev")
	inv := Inventory{GroupKinds: []schema.GroupKind{{Kind: "ConfigMap"}}}
	SetRecord(&inv, Record{Commit: "c1", Outcome: OutcomeConverged, Trigger: TriggerMerge, Time: time.Now()})
	if err := WriteInventory(ctx, c, set, inv); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	want := DriftStatus{State: DriftDrifted, Objects: 3, Commit: "c1", Time: at, Issue: 7}
	if err := SetDrift(ctx, c, set, want); err != nil {
		t.Fatal(err)
	}
	if err := SetDrift(ctx, c, never, want); err != nil {
		t.Fatal(err)
	}
	read, err := ReadInventory(ctx, c, set)
	if err != nil {
		t.Fatal(err)
	}
	for k := range read.Annotations {
		if IsDriftAnnotation(k) {
			t.Errorf("inventory carries drift annotation %s: an apply would take it over", k)
		}
	}
	SetRecord(read, Record{Commit: "c2", Outcome: OutcomeConverged, Trigger: TriggerApply, Time: time.Now()})
	if err := WriteInventory(ctx, c, set, *read); err != nil {
		t.Fatal(err)
	}
	var got *ApplySetRecord
	all, err := ListRecords(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	for i := range all {
		switch all[i].Set {
		case set:
			got = &all[i]
		case never:
			t.Errorf("an environment never applied got a parent from a drift check")
		}
	}
	if got == nil {
		t.Fatalf("set %v not listed", set)
	}
	if got.Drift != want {
		t.Errorf("drift after apply = %+v, want %+v", got.Drift, want)
	}
	if got.Record.Commit != "c2" {
		t.Errorf("record commit = %q, want c2", got.Record.Commit)
	}
}
