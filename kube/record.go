package kube

import (
	"strconv"
	"time"
)

// Annotations of the durable record of the last apply, kept on the
// ApplySet parent beside the inventory. Badges and drift detection read
// them; an apply writes "in-progress" before its first write and its outcome
// at the end, so an interrupted apply stays visible as such.
const (
	AnnotationLastCommit  = "tugboat.dev/last-apply-commit"
	AnnotationLastPR      = "tugboat.dev/last-apply-pr"
	AnnotationLastTime    = "tugboat.dev/last-apply-time"
	AnnotationLastDigest  = "tugboat.dev/last-apply-digest"
	AnnotationLastOutcome = "tugboat.dev/last-apply-outcome"
	AnnotationLastMessage = "tugboat.dev/last-apply-message"
)

// Outcome is the result of an apply as the record states it.
type Outcome string

// The outcomes an apply record can hold.
const (
	OutcomeInProgress Outcome = "in-progress"
	OutcomeConverged  Outcome = "converged"
	OutcomeFailed     Outcome = "failed"
)

// Record is the durable record of an environment's last apply.
type Record struct {
	Commit  string
	PR      int // 0 when not applied from a pull request (a merge, `bot apply`)
	Time    time.Time
	Digest  string
	Outcome Outcome
	// Message is a one-line summary of a failure; empty otherwise.
	Message string
}

// maxRecordMessage keeps the record small: annotations share a 256 KiB
// budget with everything else on the object.
const maxRecordMessage = 1024

// RecordFrom reads the record out of an inventory's annotations. The zero
// Record means no apply has ever been recorded.
func RecordFrom(inv *Inventory) Record {
	if inv == nil {
		return Record{}
	}
	a := inv.Annotations
	r := Record{
		Commit:  a[AnnotationLastCommit],
		Digest:  a[AnnotationLastDigest],
		Outcome: Outcome(a[AnnotationLastOutcome]),
		Message: a[AnnotationLastMessage],
	}
	r.PR, _ = strconv.Atoi(a[AnnotationLastPR])
	r.Time, _ = time.Parse(time.RFC3339, a[AnnotationLastTime])
	return r
}

// SetRecord writes r into inv's annotations, replacing any previous record.
func SetRecord(inv *Inventory, r Record) {
	if inv.Annotations == nil {
		inv.Annotations = map[string]string{}
	}
	a := inv.Annotations
	a[AnnotationLastCommit] = r.Commit
	a[AnnotationLastDigest] = r.Digest
	a[AnnotationLastOutcome] = string(r.Outcome)
	a[AnnotationLastTime] = r.Time.UTC().Format(time.RFC3339)
	if r.PR > 0 {
		a[AnnotationLastPR] = strconv.Itoa(r.PR)
	} else {
		delete(a, AnnotationLastPR)
	}
	msg := r.Message
	if len(msg) > maxRecordMessage {
		msg = msg[:maxRecordMessage] + "…"
	}
	if msg != "" {
		a[AnnotationLastMessage] = msg
	} else {
		delete(a, AnnotationLastMessage)
	}
}
