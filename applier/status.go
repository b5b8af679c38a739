// Package applier applies a plan exactly as it was shown: it re-plans,
// refuses when the plan changed, applies in stages with server-side apply,
// prunes what is no longer rendered, and waits until the environment has
// converged, reporting per object what a person needs to know.
package applier

import (
	"time"

	"github.com/tugboatops/tugboat/planner"
)

// Status is the convergence state of one applied object.
type Status string

// The statuses an object can end a wait with. They are kstatus' statuses,
// with Terminating and Unknown folded into InProgress: neither is an answer
// a person can act on.
const (
	StatusCurrent    Status = "Current"
	StatusInProgress Status = "InProgress"
	StatusFailed     Status = "Failed"
	StatusNotFound   Status = "NotFound"
)

// ObjectStatus is the state of one object when a wait ended.
type ObjectStatus struct {
	Ref     planner.ObjectRef
	Status  Status
	Message string
	// Diagnosis is set for workloads that failed or had not converged: what
	// `kubectl describe`, `kubectl get events` and `kubectl logs` would show.
	Diagnosis *Diagnosis
}

// Diagnosis explains why a workload is not Current.
type Diagnosis struct {
	Pods   []PodState
	Events []Event
	// PodsOmitted counts current pods left out to keep the report short.
	PodsOmitted int
}

// PodState is one of a workload's current pods.
type PodState struct {
	Name  string
	Phase string
	// Message is set when the pod itself (not a container) is stuck, such as
	// "Unschedulable: 0/3 nodes are available".
	Message    string
	Containers []ContainerState
}

// ContainerState is one container of a pod.
type ContainerState struct {
	Name     string
	Init     bool
	Ready    bool
	Restarts int32
	// State is "waiting", "running" or "terminated"; Reason and Message
	// belong to it (CrashLoopBackOff, ImagePullBackOff, OOMKilled, …).
	State    string
	Reason   string
	Message  string
	ExitCode int32
	// LastTermination describes the previous run of a restarted container,
	// such as "Error (exit code 1)" or "OOMKilled (exit code 137)".
	LastTermination string
	// Logs are the last lines of the container's (previous) log. When the
	// cluster cannot serve logs, LogsError says why.
	Logs      []string
	LogsError string
}

// Event is a recent Kubernetes Event about a workload or one of its pods.
type Event struct {
	Type    string // Normal, Warning
	Reason  string
	Object  string // Kind/name
	Message string
	Count   int32
	Last    time.Time
}

// WaitResult is the outcome of waiting for a set of objects.
type WaitResult struct {
	Objects []ObjectStatus
	// Converged is true when every object is Current.
	Converged bool
	// TimedOut is true when the wait ended before every object was Current
	// and none had failed.
	TimedOut bool
	Duration time.Duration
}

// Failed returns the objects that failed.
func (r *WaitResult) Failed() []ObjectStatus { return r.with(StatusFailed) }

// Pending returns the objects that were neither Current nor Failed when the
// wait ended.
func (r *WaitResult) Pending() []ObjectStatus {
	var out []ObjectStatus
	for _, o := range r.Objects {
		if o.Status == StatusInProgress || o.Status == StatusNotFound {
			out = append(out, o)
		}
	}
	return out
}

func (r *WaitResult) with(s Status) []ObjectStatus {
	var out []ObjectStatus
	for _, o := range r.Objects {
		if o.Status == s {
			out = append(out, o)
		}
	}
	return out
}
