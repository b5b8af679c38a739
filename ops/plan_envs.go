package ops

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
)

// selectEnvs decides which environments this run plans, and which it
// takes from the cache.
func (r *planRun) selectEnvs(ctx context.Context, cfg *config.RepoConfig, changed []string) ([]*envResult, []string, error) {
	var notes []string
	named := map[string]bool{}
	for _, name := range r.req.Envs {
		if _, ok := cfg.Env(name); !ok {
			notes = append(notes, fmt.Sprintf("There is no environment %q in %s; it was not planned.", name, config.RepoFile))
			continue
		}
		named[name] = true
	}
	results := make([]*envResult, len(cfg.Environments))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.o.opts.PlanConcurrency)
	for i, env := range cfg.Environments {
		res := &envResult{env: env}
		results[i] = res
		if named[env.Name] {
			res.affected = true
			continue
		}
		g.Go(func() error {
			ok, err := r.affected(gctx, env, changed)
			res.affected = ok
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	if len(r.req.Envs) > 0 {
		// Only the named environments are planned again; the others keep
		// the plan already shown for this commit, when this process has it.
		r.o.mu.Lock()
		for _, res := range results {
			if res.affected && !named[res.env.Name] {
				if p, ok := r.o.plans.get(r.key(res.env.Name)); ok {
					res.plan, res.fromCache = p, true
				}
			}
		}
		r.o.mu.Unlock()
	}
	return results, notes, nil
}

func anyAffected(results []*envResult) bool {
	for _, res := range results {
		if res.affected {
			return true
		}
	}
	return false
}

// clearEarlyFailure supersedes an earlier "tugboat" failure on this commit
// (a failure before any environment was known; see failEarly) with a
// success now that planning got past that point, so the PR does not keep a
// red mark for a problem that is gone. GitHub refuses to change a completed
// run's conclusion, so the success is a new run with the same name: GitHub
// shows the newest.
func (r *planRun) clearEarlyFailure(ctx context.Context) {
	ids, err := r.req.Client.FailedCheckRuns(ctx, r.req.Repo, r.pr.HeadSHA, CheckEarlyFailure)
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("could not look for an earlier failure to clear")
		return
	}
	if len(ids) > 0 {
		_, err := r.req.Client.CreateCheckRun(ctx, r.req.Repo, gh.CheckRun{Name: CheckEarlyFailure, HeadSHA: r.pr.HeadSHA, Status: "completed",
			Conclusion: comments.ConclusionSuccess, Title: "Planned after an earlier failure",
			Summary: "An earlier attempt to plan this commit failed; it has been planned since. The environments' check runs (tugboat/<env>) have the plans."})
		if err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Msg("could not clear an earlier failure")
		}
	}
}
