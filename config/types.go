// Package config reads and validates the per-repository .tugboat.yaml and
// the server's own configuration.
package config

import "time"

// ApplyMode says when an environment is applied.
type ApplyMode string

// The apply modes.
const (
	// ApplyOnComment applies before merge, on /apply (or the Apply button).
	ApplyOnComment ApplyMode = "on-comment"
	// ApplyOnMerge applies when the PR merges.
	ApplyOnMerge ApplyMode = "on-merge"
	// ApplyAuto applies on merge and heals drift.
	ApplyAuto ApplyMode = "auto"
)

// IgnoreRule drops fields owned by controllers (an HPA owns
// spec.replicas) from diff and apply. Kind and Name select objects; an empty
// Name selects every object of the kind. Paths are JSON pointers.
type IgnoreRule struct {
	Group     string   `yaml:"group,omitempty" json:"group,omitempty"`
	Kind      string   `yaml:"kind" json:"kind"`
	Name      string   `yaml:"name,omitempty" json:"name,omitempty"`
	Namespace string   `yaml:"namespace,omitempty" json:"namespace,omitempty"`
	Paths     []string `yaml:"paths" json:"paths"`
}

// Environment is one entry of .tugboat.yaml's environments, defaults applied.
type Environment struct {
	Name      string
	Cluster   string
	Path      string // repository-relative, slash-separated, cleaned
	Namespace string
	Apply     ApplyMode
	Requires  []string
	Approvals int
	Prune     bool
	Wait      time.Duration
	After     []string
	Ignore    []IgnoreRule
}
