package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Annotations of the durable record of the last apply, kept on the
// ApplySet parent beside the inventory. Badges and drift detection read
// them; an apply writes "in-progress" before its first write and its outcome
// at the end, so an interrupted apply stays visible as such.
const (
	AnnotationLastCommit  = "tugboat.dev/last-apply-commit"
	AnnotationLastPR      = "tugboat.dev/last-apply-pr"
	AnnotationLastHead    = "tugboat.dev/last-apply-head"
	AnnotationLastTime    = "tugboat.dev/last-apply-time"
	AnnotationLastDigest  = "tugboat.dev/last-apply-digest"
	AnnotationLastOutcome = "tugboat.dev/last-apply-outcome"
	AnnotationLastMessage = "tugboat.dev/last-apply-message"
	AnnotationLastTrigger = "tugboat.dev/last-apply-trigger"
	// AnnotationHistory holds the last deploys as a JSON array, newest
	// first (see Deploy).
	AnnotationHistory = "tugboat.dev/history"
)

// Outcome is the result of an apply as the record states it.
type Outcome string

// The outcomes an apply record can hold.
const (
	OutcomeInProgress Outcome = "in-progress"
	OutcomeConverged  Outcome = "converged"
	OutcomeFailed     Outcome = "failed"
)

// What made a record: the values of Record.Trigger.
const (
	TriggerApply  = "apply"  // /apply, the Apply button, `bot apply`
	TriggerMerge  = "merge"  // a push to the default branch
	TriggerClose  = "close"  // a PR closed unmerged, reverted to the default branch
	TriggerHeal   = "heal"   // drift healed by `apply: auto`
	TriggerRecord = "record" // record-only: the plan at a new commit was empty
	// TriggerRollback: a break-glass rollback to the previous deploy
	// (`/rollback ENV --now`, `bot rollback`).
	TriggerRollback = "rollback"
)

// Record is the durable record of an environment's last apply.
type Record struct {
	// Commit is the commit applied: a PR's test merge commit, or the
	// commit pushed to the default branch.
	Commit string
	PR     int    // 0 when not applied from a pull request (a merge, `bot apply`)
	Head   string // the PR's head commit when applied from a pull request
	Time   time.Time
	Digest string
	// Outcome of the apply.
	Outcome Outcome
	// Message is a one-line summary of a failure; empty otherwise.
	Message string
	// Trigger is what made the record (TriggerApply, ...).
	Trigger string
	// History lists the last deploys, newest first. It is read by
	// RecordFrom and kept by SetRecord; SetRecord ignores this field.
	History []Deploy
}

// Deploy is one entry of a record's history.
type Deploy struct {
	Commit  string    `json:"commit"`
	PR      int       `json:"pr,omitempty"`
	Head    string    `json:"head,omitempty"`
	Digest  string    `json:"digest,omitempty"`
	Outcome Outcome   `json:"outcome"`
	Time    time.Time `json:"time"`
	Trigger string    `json:"trigger,omitempty"`
}

// Limits that keep the record small: annotations share a 256 KiB budget
// with everything else on the object.
const (
	maxRecordMessage = 1024
	// MaxHistory is how many deploys the history keeps.
	MaxHistory = 10
	// maxHistoryBytes caps the history annotation; the oldest entries go
	// first. Ten entries of SHAs and digests take about 3 KiB.
	maxHistoryBytes = 8 << 10
	// maxHistoryField caps each string of an entry, which come from
	// callers: a digest ("sha256:" + 64 hex) and a SHA-256 commit fit.
	maxHistoryField = 128
)

// RecordFrom reads the record out of an inventory's annotations. The zero
// Record means no apply has ever been recorded.
func RecordFrom(inv *Inventory) Record {
	if inv == nil {
		return Record{}
	}
	a := inv.Annotations
	r := Record{
		Commit:  a[AnnotationLastCommit],
		Head:    a[AnnotationLastHead],
		Digest:  a[AnnotationLastDigest],
		Outcome: Outcome(a[AnnotationLastOutcome]),
		Message: a[AnnotationLastMessage],
		Trigger: a[AnnotationLastTrigger],
		History: historyFrom(a),
	}
	r.PR, _ = strconv.Atoi(a[AnnotationLastPR])
	r.Time, _ = time.Parse(time.RFC3339, a[AnnotationLastTime])
	return r
}

// SetRecord writes r into inv's annotations, replacing any previous record,
// and adds it to the history: as a new entry, or in place of the newest one
// when that is the same deploy still in progress (an apply records its
// start and then its outcome, which is one deploy).
func SetRecord(inv *Inventory, r Record) {
	if inv.Annotations == nil {
		inv.Annotations = map[string]string{}
	}
	setRecordFields(inv.Annotations, r)
	hist := historyFrom(inv.Annotations)
	d := deployOf(r)
	if len(hist) > 0 && hist[0].Outcome == OutcomeInProgress && sameDeploy(hist[0], d) {
		hist[0] = d
	} else {
		hist = append([]Deploy{d}, hist...)
	}
	setHistory(inv.Annotations, hist)
}

func setRecordFields(a map[string]string, r Record) {
	a[AnnotationLastCommit] = r.Commit
	a[AnnotationLastDigest] = r.Digest
	a[AnnotationLastOutcome] = string(r.Outcome)
	a[AnnotationLastTime] = r.Time.UTC().Format(time.RFC3339)
	pr := ""
	if r.PR > 0 {
		pr = strconv.Itoa(r.PR)
	}
	setOrDelete(a, AnnotationLastPR, pr)
	setOrDelete(a, AnnotationLastHead, r.Head)
	setOrDelete(a, AnnotationLastTrigger, r.Trigger)
	msg := r.Message
	if len(msg) > maxRecordMessage {
		msg = msg[:maxRecordMessage] + "…"
	}
	setOrDelete(a, AnnotationLastMessage, msg)
}

func setOrDelete(a map[string]string, key, value string) {
	if value == "" {
		delete(a, key)
		return
	}
	a[key] = value
}

func deployOf(r Record) Deploy {
	return Deploy{
		Commit:  capField(r.Commit),
		PR:      r.PR,
		Head:    capField(r.Head),
		Digest:  capField(r.Digest),
		Outcome: Outcome(capField(string(r.Outcome))),
		Time:    r.Time.UTC().Truncate(time.Second),
		Trigger: capField(r.Trigger),
	}
}

func capField(s string) string {
	if len(s) > maxHistoryField {
		return s[:maxHistoryField]
	}
	return s
}

func sameDeploy(a, b Deploy) bool {
	return a.Commit == b.Commit && a.PR == b.PR && a.Head == b.Head && a.Digest == b.Digest && a.Trigger == b.Trigger
}

// historyFrom reads the history annotation. One that does not parse (edited
// by hand) reads as empty: the history is informative, and the next record
// starts it again.
func historyFrom(a map[string]string) []Deploy {
	s := a[AnnotationHistory]
	if s == "" {
		return nil
	}
	var hist []Deploy
	if err := json.Unmarshal([]byte(s), &hist); err != nil {
		return nil
	}
	return hist
}

// setHistory writes hist, newest first, keeping at most MaxHistory entries
// and maxHistoryBytes.
func setHistory(a map[string]string, hist []Deploy) {
	if len(hist) > MaxHistory {
		hist = hist[:MaxHistory]
	}
	for ; len(hist) > 0; hist = hist[:len(hist)-1] {
		b, err := json.Marshal(hist)
		if err == nil && len(b) <= maxHistoryBytes {
			a[AnnotationHistory] = string(b)
			return
		}
	}
	delete(a, AnnotationHistory)
}

// RecordCommit updates only the record — commit, PR, head, digest, outcome,
// time, trigger (TriggerRecord when empty) — leaving the inventory (kinds,
// namespaces) and the history as they are: a record-only update is not a
// deploy. It is made after a push to the default branch for each
// environment whose plan at the pushed commit is empty, so the record names
// a commit of the default branch. An environment never applied gets a
// parent with an empty inventory. The write is conditional on the parent
// read, so an apply recording its inventory in between is never undone.
func RecordCommit(ctx context.Context, c *Cluster, set ApplySet, rec Record) error {
	if rec.Trigger == "" {
		rec.Trigger = TriggerRecord
	}
	if rec.Time.IsZero() {
		rec.Time = time.Now()
	}
	if err := ensureSystemNamespace(ctx, c); err != nil {
		return fmt.Errorf("record commit on %s: %w", set.ParentName(), err)
	}
	for range parentWriteAttempts {
		parent, err := readParent(ctx, c, set)
		if err != nil {
			return fmt.Errorf("record commit: %w", err)
		}
		inv, rv := Inventory{Annotations: map[string]string{}}, ""
		if parent != nil {
			inv, rv = *inventoryFromParent(parent), parent.GetResourceVersion()
		}
		setRecordFields(inv.Annotations, rec)
		err = writeParent(ctx, c, set, inv, rv)
		if err == nil {
			return nil
		}
		if !apierrors.IsConflict(err) {
			return fmt.Errorf("record commit on %s/%s: %w", SystemNamespace, set.ParentName(), err)
		}
	}
	return fmt.Errorf("record commit on %s/%s: the parent kept changing; gave up after %d attempts", SystemNamespace, set.ParentName(), parentWriteAttempts)
}
