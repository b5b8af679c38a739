// Package planner renders a repository's manifests for one environment and
// diffs them against the live cluster with a server-side apply dry-run. The
// resulting Plan is what reviewers approve and what the applier applies.
package planner

import (
	"io/fs"

	"github.com/tugboatops/tugboat/config"
)

// Action is what applying a plan does to one object.
type Action string

// The actions a Change can have.
const (
	ActionCreate    Action = "create"
	ActionUpdate    Action = "update"
	ActionDelete    Action = "delete"
	ActionUnchanged Action = "unchanged"
	// ActionAdopt is an update whose only change is tugboat's ApplySet
	// membership label on an object no ApplySet owned (say, one made by
	// `kubectl apply`): applied like an update, shown without a diff.
	ActionAdopt Action = "adopt"
)

// ObjectRef names one Kubernetes object.
type ObjectRef struct {
	Group     string `json:"group"`
	Version   string `json:"version"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// String is "Kind/namespace/name", or "Kind/name" for cluster-scoped objects.
func (r ObjectRef) String() string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}

// IsNamespace reports whether r names a Namespace.
func (r ObjectRef) IsNamespace() bool { return r.Group == "" && r.Kind == "Namespace" }

// IsCRD reports whether r names a CustomResourceDefinition.
func (r ObjectRef) IsCRD() bool {
	return r.Group == "apiextensions.k8s.io" && r.Kind == "CustomResourceDefinition"
}

// Location is where in the repository an object or problem comes from.
// File is relative to the repository root; Line is 1-based, 0 when unknown.
type Location struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

// Change is the planned effect on one object.
type Change struct {
	Ref    ObjectRef
	Action Action
	// Diff is a unified diff of the normalized YAML (live → desired), with
	// every Secret value masked. Empty for unchanged and adopted objects.
	Diff   string
	Source Location
	// FromPR is false when the change exists only because the cluster
	// drifted from the base branch's render.
	FromPR bool
	// Danger is non-empty for changes a person must look at twice (see
	// danger.go): deletes that lose data, an address, cluster-wide checks
	// or APIs, or tugboat's own access, and taking an object over from
	// another ApplySet. It reads as the rest of "Dangerous: …".
	Danger string
}

// Problem is anything that stops an environment from being applied:
// render, validation and dry-run errors, and failures of the planner itself.
type Problem struct {
	Source  Location
	Object  string // ObjectRef.String() when the problem is about one object
	Message string
	// Unreachable marks the problem that the cluster did not answer (the
	// plan is incomplete, not wrong): drift detection reports it as
	// "unknown", never as drift.
	Unreachable bool
	// Note marks what a render tells without it being wrong (a Helm
	// chart's hooks, which are not applied): the planner shows it with the
	// plan's warnings, and it never fails a plan.
	Note bool
	// omitted is set on the last problem of a capped list: how many
	// problems it stands for (see capProblems).
	omitted int
}

// Counts summarises a plan's changes by action.
type Counts struct {
	Create    int `json:"create"`
	Update    int `json:"update"`
	Delete    int `json:"delete"`
	Unchanged int `json:"unchanged"`
	Adopt     int `json:"adopt"`
}

// Plan is the diff of one environment: what applying the repository at
// Commit would do to the cluster now.
type Plan struct {
	Env     string
	Cluster string
	// Commit is Input.Commit: the commit planned.
	Commit string
	// Changes are in a deterministic order: CRDs, Namespaces, then by kind
	// order, namespace and name.
	Changes  []Change
	Problems []Problem
	// Warnings are shown with the plan but do not stop it: violations of
	// policies whose action is warn. They are not part of the digest.
	Warnings []Problem
	// Digest identifies the plan: sha256 over every change's ref, action and
	// masked diff, plus a keyed HMAC of Secret data. Same input, same digest.
	Digest string
}

// Counts returns the number of changes per action.
func (p *Plan) Counts() Counts {
	var c Counts
	for _, ch := range p.Changes {
		switch ch.Action {
		case ActionCreate:
			c.Create++
		case ActionUpdate:
			c.Update++
		case ActionDelete:
			c.Delete++
		case ActionUnchanged:
			c.Unchanged++
		case ActionAdopt:
			c.Adopt++
		}
	}
	return c
}

// HasChanges reports whether applying the plan would write anything.
// Adopting writes: the membership label that makes tugboat own the object.
func (p *Plan) HasChanges() bool {
	c := p.Counts()
	return c.Create+c.Update+c.Delete+c.Adopt > 0
}

// Input is what a plan is made from.
type Input struct {
	// Repo is the tree to deploy (for a PR: GitHub's test merge commit).
	Repo fs.FS
	// BaseRepo is the base branch's tree, used to tell changes made by the
	// PR from drift. Nil when there is no base (every change is from the PR).
	BaseRepo fs.FS
	// RepoName ("owner/name") scopes the ApplySet, so two repositories with
	// an environment of the same name in one cluster never prune each other.
	RepoName string
	Env      config.Environment
	// Commit is the commit Repo is a tree of (for a PR: the test merge
	// commit, not the PR's head). It is shown with the plan and recorded
	// on the cluster when applied; "" when unknown.
	Commit string
	// BaseSHA is the commit BaseRepo is a tree of.
	BaseSHA string
	// Renderer, when set, renders Repo and BaseRepo in place of the
	// Planner's own: a caller that renders the same trees for work of its
	// own passes a RenderMemo, so nothing is rendered twice.
	Renderer ManifestRenderer
}
