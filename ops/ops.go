// Package ops carries out what the bot does for a pull request: plan it
// (PlanPR), tidy up when it closes (Closed), and leave notes on it. It
// orchestrates gh, planner and comments and decides nothing about
// webhooks; the handlers package calls it.
package ops

import (
	"context"
	"io/fs"
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
	opts     Options

	mu        sync.Mutex
	plans     *planCache
	minimized map[string]bool // node ids this process minimized already
}

// Options configure Ops.
type Options struct {
	// BotLogin is the app's bot account ("slug[bot]"): only its comments
	// are taken for plan comments.
	BotLogin string
	// WebURL is GitHub's web root (https://github.com), for links to files.
	WebURL string
	// Mergeable bounds the wait for GitHub's test merge.
	Mergeable gh.MergeablePolicy
	// PlanConcurrency is how many environments are planned at once (default 2).
	PlanConcurrency int
	// Timeout bounds one PlanPR (default 10 min).
	Timeout time.Duration
	Metrics *Metrics
}

// New returns Ops planning with p and rendering with r.
func New(p Planner, r Renderer, opts Options) *Ops {
	if opts.PlanConcurrency <= 0 {
		opts.PlanConcurrency = 2
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Minute
	}
	return &Ops{planner: p, renderer: r, opts: opts, plans: newPlanCache(256), minimized: map[string]bool{}}
}

// PR names the pull request an operation is about, with the client of the
// installation that may act on it. The logger travels in the operation's
// context (zerolog.Ctx), carrying repository, PR and delivery id.
type PR struct {
	Client *gh.Client
	Repo   gh.Repo
	Number int
}
