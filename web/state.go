// Package web serves tugboat's badges and status pages. Both are answered
// from an in-memory snapshot that a background refresher fills from the
// clusters' ApplySet records (the durable state of every apply and drift
// check) and from GitHub, so a flood of badge requests never reaches a
// cluster or GitHub.
package web

import (
	"strings"
	"time"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/kube"
)

// State is what a badge and the status page say about an environment.
type State string

// The states, with their badge colours.
const (
	StateConverged State = "converged" // green
	StateApplying  State = "applying"  // blue
	StateFailed    State = "failed"    // red
	StateDrifted   State = "drifted"   // orange
	// StatePinned: a break-glass rollback holds the environment at a
	// commit; nothing deploys to it until it is unpinned.
	StatePinned State = "pinned" // blueviolet
	// StateUnknown: never applied, its cluster unreachable, or the drift
	// check could not be made.
	StateUnknown State = "unknown" // grey
)

// stateOf derives an environment's state from its record and its last
// drift check. A drift check counts only when it checked the recorded
// commit and ran no earlier than the record was written: an apply since
// makes it stale (the next round checks again).
//
// A pin outranks the record: whatever the last apply's outcome, the
// environment is held where the pin says until someone unpins it, and that
// is what anyone looking at it must learn first (the page still shows the
// record and a failure's message).
func stateOf(rec kube.Record, d kube.DriftStatus, pin *kube.Pin, reachable bool) State {
	if !reachable {
		return StateUnknown
	}
	if pin != nil {
		return StatePinned
	}
	switch rec.Outcome {
	case kube.OutcomeInProgress:
		return StateApplying
	case kube.OutcomeFailed:
		return StateFailed
	case kube.OutcomeConverged:
		if !driftApplies(rec, d) {
			return StateConverged
		}
		switch d.State {
		case kube.DriftDrifted:
			return StateDrifted
		case kube.DriftUnknown:
			return StateUnknown
		}
		return StateConverged
	}
	return StateUnknown
}

// driftApplies reports whether drift check d is about record rec.
func driftApplies(rec kube.Record, d kube.DriftStatus) bool {
	if d.State == "" {
		return false
	}
	if d.Commit != "" && d.Commit != rec.Commit {
		return false
	}
	return !d.Time.Before(rec.Time.Truncate(time.Second))
}

// Snapshot is everything the pages show, as of one refresh.
type Snapshot struct {
	// Time is when the refresh finished (zero before the first).
	Time time.Time
	// Repos by lower-cased "owner/name" (GitHub names are case-insensitive).
	Repos map[string]*RepoState
}

// RepoState is one repository's environments.
type RepoState struct {
	Name string // "owner/name" as recorded
	// Private is true unless GitHub said the repository is public: an
	// unknown visibility is treated as private (no badge without a token).
	Private bool
	HTMLURL string
	Envs    []*EnvState // sorted by name
}

// Env returns the named environment, or nil.
func (r *RepoState) Env(name string) *EnvState {
	for _, e := range r.Envs {
		if e.Env == name {
			return e
		}
	}
	return nil
}

// EnvState is one environment of a repository.
type EnvState struct {
	Repo, Env, Cluster string
	Record             kube.Record
	// Drift is the last drift check of the recorded commit (zero: none
	// that applies to the record).
	Drift kube.DriftStatus
	// Lock is the PR lock (nil: free, or not read).
	Lock *kube.LockInfo
	// Pin is the environment's break-glass pin (nil: not pinned).
	Pin   *kube.Pin
	State State
	// Problem says why the state is unknown when it is not the record's
	// doing ("cluster staging did not answer since 10:04:05").
	Problem string
	// Deployments are the newest GitHub Deployments of the environment.
	Deployments []Deployment
	// ReadAt is when the record was last read from the cluster.
	ReadAt time.Time
}

// Message is the badge's message: the state and the short commit.
func (e *EnvState) Message() string {
	if e == nil {
		return "not found"
	}
	if e.State == StatePinned && e.Pin != nil {
		return string(e.State) + " " + comments.ShortSHA(e.Pin.Commit)
	}
	if e.Record.Commit == "" || e.State == StateUnknown && e.Record.Outcome == "" {
		return string(e.State)
	}
	return string(e.State) + " " + comments.ShortSHA(e.Record.Commit)
}

func repoKey(repo string) string { return strings.ToLower(repo) }

// lookup finds an environment in the snapshot (nil when absent).
func (s *Snapshot) lookup(repo, env string) (*RepoState, *EnvState) {
	if s == nil {
		return nil, nil
	}
	r := s.Repos[repoKey(repo)]
	if r == nil {
		return nil, nil
	}
	return r, r.Env(env)
}
