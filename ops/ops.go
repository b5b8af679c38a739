// Package ops carries out what the bot does for a pull request: plan it
// (PlanPR), tidy up when it closes (Closed), and leave notes on it. It
// orchestrates gh, planner and comments and decides nothing about
// webhooks; the handlers package calls it.
package ops

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/planner"
)

// Planner makes one environment's plan; *planner.Planner is the real one.
type Planner interface {
	Plan(ctx context.Context, in planner.Input) (*planner.Plan, error)
}

// Renderer renders one environment. Every render of a PlanPR run goes
// through it, once per tree and environment (a planner.RenderMemo shared
// with the plans): to tell which environments a pull request affects, and
// for their plans. *planner.Renderer is the real one.
type Renderer interface {
	Render(ctx context.Context, repo fs.FS, env config.Environment) ([]planner.Object, []planner.Problem, error)
}

// Ops is the bot's operations. Create one with New; safe for concurrent use.
type Ops struct {
	planner  Planner
	renderer Renderer
	applier  Applier
	state    EnvState
	records  RecordStore
	github   GitHubApp
	locker   Locker
	opts     Options
	applies  *pool

	mu        sync.Mutex
	plans     *planCache
	minimized map[string]bool // node ids this process minimized already
	heals     *healBackoff
	// driftRenders bounds the render children of drift rounds
	// (drift_render.go); nil without a renderer.
	driftRenders *boundRenderer
}

// Options configure Ops.
type Options struct {
	// BotLogin is the app's bot account ("slug[bot]"): only its comments
	// are taken for plan comments, and its statuses are tugboat's own.
	BotLogin string
	// AppID is the GitHub App's id: check runs it made are tugboat's own.
	AppID int64
	// ClusterAllowed says whether a repository ("owner/name") may use a
	// cluster (the server config's clusters.<name>.repositories); nil: any.
	ClusterAllowed func(cluster, repo string) bool
	// ApplyWorkers bounds the applies running at once (default 4).
	ApplyWorkers int
	// WebURL is GitHub's web root (https://github.com), for links to files.
	WebURL string
	// Mergeable bounds the wait for GitHub's test merge.
	Mergeable gh.MergeablePolicy
	// PlanConcurrency is how many environments are planned at once (default 2).
	PlanConcurrency int
	// Timeout bounds one PlanPR (default 10 min).
	Timeout time.Duration
	// PlanCacheBytes bounds the plans kept for partial re-plans, by an
	// estimate of their size (default DefaultPlanCacheBytes).
	PlanCacheBytes int64
	Metrics        *Metrics
	// Clients gives a repository's installation client, for work no
	// webhook started (drift rounds); *gh.Factory is the real one. Nil:
	// no drift rounds.
	Clients RepoClients
	// Drift configures drift rounds.
	Drift DriftOptions
	// RepoAllowed says whether a repository ("owner/name") is served (the
	// server config's allowed_repositories); nil: every one. The resync
	// walks only those.
	RepoAllowed func(fullName string) bool
	// PlanForks plans fork pull requests without a maintainer's /plan (the
	// server config's allow_fork_plans); the resync leaves other forks alone.
	PlanForks bool
}

// Engines are what Ops drives: the planner, the renderer (to tell which
// environments a pull request affects), the applier, and the state kept in
// the clusters (locks, mutexes, records; Records lists them all, to
// conclude applies a stopped process left in progress — nil: not done).
type Engines struct {
	Planner  Planner
	Renderer Renderer
	Applier  Applier
	State    EnvState
	Records  RecordStore
	// GitHub lists the app's installations for the resync (nil: no resync).
	GitHub GitHubApp
	// Locker is the per-PR lock the webhook queue takes too (a per-PR
	// Lease across replicas), so the resync never plans a pull request a
	// replica is handling. Nil: none taken.
	Locker Locker
}

// New returns Ops driving e.
func New(e Engines, opts Options) *Ops {
	if opts.PlanConcurrency <= 0 {
		opts.PlanConcurrency = 2
	}
	if opts.ApplyWorkers <= 0 {
		opts.ApplyWorkers = 4
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Minute
	}
	if opts.PlanCacheBytes <= 0 {
		opts.PlanCacheBytes = DefaultPlanCacheBytes
	}
	if opts.Drift.Interval <= 0 {
		opts.Drift.Interval = config.DefaultDriftInterval
	}
	if opts.Drift.Concurrency <= 0 {
		opts.Drift.Concurrency = config.DefaultDriftConcurrency
	}
	return &Ops{planner: e.Planner, renderer: e.Renderer, applier: e.Applier, state: e.State, records: e.Records, github: e.GitHub, locker: e.Locker, opts: opts,
		applies: newPool(opts.ApplyWorkers), plans: newPlanCache(opts.PlanCacheBytes), minimized: map[string]bool{},
		heals: newHealBackoff(), driftRenders: newBoundRenderer(e.Renderer, driftRenders)}
}

// Wait waits for the applies running on the apply pool (at shutdown, after
// the webhook queue has drained).
func (o *Ops) Wait() { o.applies.Wait() }

// repoURL is the repository's web page, "" when the web root is unknown.
func (o *Ops) repoURL(repo gh.Repo) string {
	if o.opts.WebURL == "" {
		return ""
	}
	return strings.TrimSuffix(o.opts.WebURL, "/") + "/" + repo.FullName()
}

// checkRunURL is a check run's page on GitHub.
func (o *Ops) checkRunURL(repo gh.Repo, id int64) string {
	if o.opts.WebURL == "" {
		return ""
	}
	return fmt.Sprintf("%s/runs/%d", o.repoURL(repo), id)
}

// PR names the pull request an operation is about, with the client of the
// installation that may act on it. The logger travels in the operation's
// context (zerolog.Ctx), carrying repository, PR and delivery id.
type PR struct {
	Client *gh.Client
	Repo   gh.Repo
	Number int
}
