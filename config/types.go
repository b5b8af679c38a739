// Package config reads and validates the per-repository .tugboat.yaml and
// the server's own configuration.
package config

import (
	"strings"
	"time"
)

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
	Name    string
	Cluster string
	Path    string // repository-relative, slash-separated, cleaned; "" with Helm
	// Helm, when set, renders a chart instead of Path.
	Helm      *Helm
	Namespace string
	Apply     ApplyMode
	Requires  []string
	Approvals int
	Prune     bool
	Wait      time.Duration
	After     []string
	Ignore    []IgnoreRule
	// Appliers, when not empty, are the only people (besides admins) who
	// may apply this environment: logins and teams. Empty: anyone with
	// write, maintain or admin permission. The file cannot say an empty
	// list (it is refused), so empty always means "not restricted".
	Appliers []Applier
	// Production marks the environment's GitHub Deployments as production
	// (production_environment).
	Production bool
	// URL is where the environment is reached (an http or https URL),
	// shown as its GitHub Deployments' environment_url; "" for none.
	URL string
	// Policies are the repository's policies (RepoConfig.Policies), which
	// every object of the environment is checked against.
	Policies []Policy
	// Drift is how often drift detection checks the environment; 0 means
	// the server's drift.interval.
	Drift time.Duration
	// DriftOff turns drift detection off for the environment (`drift: off`).
	DriftOff bool
	// Promote says what /promote copies into this environment (nil: it
	// cannot be promoted into).
	Promote *Promote
	// BreakGlass are who besides admins may `/rollback ENV --now`.
	BreakGlass []Applier
}

// Applier is one entry of an environment's appliers: a person (Login) or,
// written "team:org/slug", a team (Org and Team set, Login empty).
type Applier struct {
	Login string
	Org   string
	Team  string // the team's slug
}

// IsTeam reports whether the entry names a team.
func (a Applier) IsTeam() bool { return a.Team != "" }

// String is the entry as written in .tugboat.yaml.
func (a Applier) String() string {
	if a.IsTeam() {
		return "team:" + a.Org + "/" + a.Team
	}
	return a.Login
}

// IsLogin reports whether the entry is the person login. GitHub logins are
// case-insensitive.
func (a Applier) IsLogin(login string) bool {
	return !a.IsTeam() && strings.EqualFold(a.Login, login)
}
