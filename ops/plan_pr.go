package ops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/planner"
)

// PlanRequest asks for a pull request's plan.
type PlanRequest struct {
	PR
	// Envs limits the plan to the environments named (a `/plan staging`, or
	// a check run's Re-plan). Nil plans every affected environment.
	Envs []string
	// IfNotPlanned skips the plan when this App already has completed runs
	// for the PR's current head (read from GitHub, so it holds across
	// replicas and restarts): a second delivery of a push, or one handled
	// after a newer push's plan, posts nothing twice. Explicit requests
	// (/plan, Re-plan, a base change) leave it off.
	IfNotPlanned bool
}

// envResult is one environment's outcome in a PlanPR run.
type envResult struct {
	env        config.Environment
	affected   bool
	plan       *planner.Plan
	failure    error
	fromCache  bool
	checkRunID int64
}

// PlanPR plans what merging the pull request would deploy (GitHub's test
// merge commit, against the base branch head it was merged with), posts or
// edits the comment set for the PR's head commit and gives every affected
// environment a check run tugboat/<env>. Configuration comes from the base
// branch. Errors are for failures of the bot or GitHub; a failure after the
// check runs exist also concludes them with the message.
func (o *Ops) PlanPR(ctx context.Context, req PlanRequest) error {
	ctx, cancel := context.WithTimeout(ctx, o.opts.Timeout)
	defer cancel()
	c, repo := req.Client, req.Repo
	pr, err := c.PullRequest(ctx, repo, req.Number, o.opts.Mergeable)
	if err != nil {
		return err
	}
	if pr.State != "open" {
		zerolog.Ctx(ctx).Info().Str("state", pr.State).Msg("pull request is not open: not planned")
		return nil
	}
	if req.IfNotPlanned {
		runs, err := c.CheckRunsForRef(ctx, repo, pr.HeadSHA)
		if err != nil {
			return err
		}
		// An early failure (GitHub did not answer), or a run concluded
		// before its plan was posted, is not a plan: a manual redelivery
		// is how a maintainer retries it. The resync leaves those to the
		// Re-plan button instead of retrying every round.
		if st := o.headState(runs); st.planned && !st.earlyFailed && !st.unposted {
			// Completed runs are not enough: a handling that failed while
			// posting the comment concluded its runs too. The plan is
			// posted once its comment set for this head is there.
			posted, err := o.hasPlanCommentsFor(ctx, req.PR, pr.HeadSHA)
			if err != nil {
				return err
			}
			if posted {
				zerolog.Ctx(ctx).Info().Str("head", comments.ShortSHA(pr.HeadSHA)).Msg("this head was planned already: nothing to do")
				return nil
			}
		}
	}
	if !pr.Mergeable {
		return o.conflict(ctx, req.PR, pr)
	}
	if pr.MergeCommitSHA == "" {
		return fmt.Errorf("pull request %s#%d: GitHub reports it mergeable but gives no test merge commit", repo, req.Number)
	}
	run := &planRun{o: o, req: req, pr: pr, mergeSHA: pr.MergeCommitSHA, renders: planner.NewRenderMemo(o.renderer)}
	if err := run.fetch(ctx); err != nil {
		run.failEarly(ctx, err)
		return err
	}
	return run.plan(ctx)
}

// planRun is the state of one PlanPR.
type planRun struct {
	o        *Ops
	req      PlanRequest
	pr       *gh.PullRequest
	mergeSHA string
	baseSHA  string
	base     *gh.Tree
	merge    *gh.Tree
	// renders shares this run's renders: an environment affected through
	// files outside its path is rendered (base and merge) to find that out,
	// and its plan uses the same renders.
	renders *planner.RenderMemo
	// baseFS and mergeFS are the trees as the renderer reads them, marked
	// for renders.
	baseFS, mergeFS fs.FS
	// checks reads the reviews once for the on-merge gates.
	checks *requirementChecks
}

// fetch downloads the base branch head and the test merge commit.
func (r *planRun) fetch(ctx context.Context) error {
	c, repo := r.req.Client, r.req.Repo
	baseSHA, err := c.FirstParent(ctx, repo, r.mergeSHA)
	if err != nil {
		return err
	}
	r.baseSHA = baseSHA
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { r.base, err = c.Tarball(gctx, repo, baseSHA); return })
	g.Go(func() (err error) { r.merge, err = c.Tarball(gctx, repo, r.mergeSHA); return })
	if err := g.Wait(); err != nil {
		return err
	}
	r.baseFS = r.renders.Tree(r.baseSHA, planner.NewMemFS(r.base.Files))
	r.mergeFS = r.renders.Tree(r.mergeSHA, planner.NewMemFS(r.merge.Files))
	return nil
}

// failEarly reports a failure that came before any environment was known
// on the check run CheckEarlyFailure, so it is never silent.
func (r *planRun) failEarly(ctx context.Context, cause error) {
	out := comments.CheckRunError(cause)
	_, err := r.req.Client.CreateCheckRun(ctx, r.req.Repo, gh.CheckRun{
		Name: CheckEarlyFailure, HeadSHA: r.pr.HeadSHA, Status: "completed", Conclusion: out.Conclusion,
		Title: out.Title, Summary: out.Summary, Text: out.Text, Actions: []gh.Action{replanAction},
	})
	if err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("could not report the failure on a check run")
	}
}

func (r *planRun) plan(ctx context.Context) error {
	log := zerolog.Ctx(ctx).With().Str("head", comments.ShortSHA(r.pr.HeadSHA)).Str("merge", comments.ShortSHA(r.mergeSHA)).Logger()
	ctx = log.WithContext(ctx)
	baseCfgData, hasBaseCfg := r.base.Files[config.RepoFile]
	mergeCfgData, hasMergeCfg := r.merge.Files[config.RepoFile]
	configChanged := hasMergeCfg && (!hasBaseCfg || !bytes.Equal(baseCfgData, mergeCfgData))
	if configChanged {
		r.checkNewConfig(ctx, mergeCfgData)
	}
	if !hasBaseCfg {
		log.Info().Msg("no " + config.RepoFile + " on the base branch: nothing to plan")
		r.markSkipped(ctx, comments.NoConfigCheckRun())
		if configChanged {
			_, err := r.o.publish(ctx, r.req.PR, r.pr.HeadSHA, comments.RenderPlanComments(comments.PlanComment{
				Repo: r.req.Repo.FullName(), RepoURL: r.repoURL(), PR: r.req.Number, HeadSHA: r.pr.HeadSHA,
				MergeSHA: r.mergeSHA, ConfigChanged: true,
				Notes: []string{"This pull request adds " + config.RepoFile + "; environments are planned once it is on the base branch."},
			}))
			return err
		}
		return nil
	}
	cfg, cfgNote, err := r.trustedConfig(ctx, baseCfgData)
	if err != nil {
		r.failEarly(ctx, err)
		return nil
	}

	changed := changedFiles(r.base.Files, r.merge.Files)
	results, notes, err := r.selectEnvs(ctx, cfg, changed)
	if cfgNote != "" {
		notes = append(notes, cfgNote)
	}
	if err != nil {
		r.failEarly(ctx, err)
		return err
	}
	r.clearEarlyFailure(ctx)
	if !anyAffected(results) {
		r.markSkipped(ctx, comments.NoEnvironmentCheckRun())
	}
	if !anyAffected(results) && !configChanged {
		// Nothing Kubernetes changed: say nothing, unless earlier commits of
		// the PR were planned (their sets are now outdated and the new one
		// says that nothing is affected any more).
		if planned, err := r.o.hasPlanComments(ctx, r.req.PR); err != nil || !planned {
			log.Info().Msg("no environment affected: nothing to plan")
			return err
		}
	}
	// Whatever happens from here, no check run is left in progress.
	var published bool
	defer func() {
		if !published {
			r.concludeFailed(context.WithoutCancel(ctx), results, errors.New("tugboat stopped before the plan was posted; see the bot's log"))
		}
	}()

	for _, res := range results {
		if !res.affected || res.fromCache {
			continue
		}
		id, err := r.req.Client.CreateCheckRun(ctx, r.req.Repo, gh.CheckRun{
			Name: checkName(res.env.Name), HeadSHA: r.pr.HeadSHA, Status: "in_progress",
			Title: "Planning…", Summary: fmt.Sprintf("tugboat is planning %s against cluster %s.", res.env.Name, res.env.Cluster),
		})
		if err != nil {
			return err
		}
		res.checkRunID = id
	}
	r.planAll(ctx, results)
	for _, pattern := range r.merge.Skipped {
		notes = append(notes, "Ignored a symbolic link leading out of the repository: "+pattern)
	}
	in := comments.PlanComment{
		Repo: r.req.Repo.FullName(), RepoURL: r.repoURL(), PR: r.req.Number, HeadSHA: r.pr.HeadSHA,
		MergeSHA: r.mergeSHA, ConfigChanged: configChanged, Notes: notes,
	}
	for _, res := range results {
		ep := comments.EnvPlan{Env: res.env.Name, Cluster: res.env.Cluster, Mode: comments.ApplyMode(res.env.Apply)}
		switch {
		case !res.affected:
			ep.Unaffected = true
		case res.failure != nil:
			ep.Failure = res.failure.Error()
		default:
			ep.Plan = res.plan
		}
		ep.LockedBy = r.lockedBy(ctx, res.env)
		in.Envs = append(in.Envs, ep)
	}
	mainURL, err := r.o.publish(ctx, r.req.PR, r.pr.HeadSHA, comments.RenderPlanComments(in))
	if err != nil {
		r.concludeFailed(context.WithoutCancel(ctx), results, fmt.Errorf("the plan could not be posted: %w", err))
		published = true
		return err
	}
	published = true
	var errs []error
	for _, res := range results {
		if res.checkRunID == 0 {
			continue
		}
		var out comments.CheckRun
		if res.failure != nil {
			out = comments.CheckRunError(res.failure)
		} else {
			out = comments.CheckRunOutput(res.plan, comments.ApplyMode(res.env.Apply), mainURL)
		}
		if err := r.conclude(ctx, res, out, mainURL); err != nil {
			errs = append(errs, err)
		}
	}
	log.Info().Int("envs", len(results)).Str("comment", mainURL).Msg("plan posted")
	return errors.Join(errs...)
}

// planAll plans every affected environment not taken from the cache.
func (r *planRun) planAll(ctx context.Context, results []*envResult) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, r.o.opts.PlanConcurrency)
	for _, res := range results {
		if !res.affected || res.fromCache {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			// A panic here would take the whole bot down (it is not the
			// scheduler's goroutine): make it this environment's failure.
			defer func() {
				if v := recover(); v != nil {
					res.plan, res.failure = nil, fmt.Errorf("planning crashed: %v", v)
					zerolog.Ctx(ctx).Error().Str("env", res.env.Name).Str("stack", string(debug.Stack())).Msg("planning crashed")
				}
			}()
			start := time.Now()
			// The planner logs through the context: name the environment
			// and its cluster there once.
			log := zerolog.Ctx(ctx).With().Str("env", res.env.Name).Str("cluster", res.env.Cluster).Logger()
			p, err := r.o.planner.Plan(log.WithContext(ctx), planner.Input{
				Repo: r.mergeFS, BaseRepo: r.baseFS, RepoName: r.req.Repo.FullName(),
				Env: res.env, Commit: r.mergeSHA, BaseSHA: r.baseSHA, Renderer: r.renders,
			})
			r.o.opts.Metrics.planned(res.env.Name, time.Since(start))
			if err != nil {
				res.failure = err
				log.Error().Err(err).Msg("planning failed")
				return
			}
			res.plan = p
			r.o.mu.Lock()
			r.o.plans.put(r.key(res.env.Name), p)
			r.o.mu.Unlock()
		}()
	}
	wg.Wait()
}

func (r *planRun) key(env string) planKey {
	return planKey{repo: r.req.Repo.FullName(), number: r.req.Number, head: r.pr.HeadSHA, merge: r.mergeSHA, env: env}
}

func (r *planRun) repoURL() string {
	if r.o.opts.WebURL == "" {
		return ""
	}
	return strings.TrimSuffix(r.o.opts.WebURL, "/") + "/" + r.req.Repo.FullName()
}

// trustedConfig is the configuration this plan uses: the default branch's
// (see Ops.trustedConfig). For a pull request into the default branch that
// is the base tree's file; a pull request into another branch is planned
// with the default branch's file, and the note says so. An invalid file is
// an error for failEarly.
func (r *planRun) trustedConfig(ctx context.Context, baseCfg []byte) (*config.RepoConfig, string, error) {
	info, err := r.req.Client.Repository(ctx, r.req.Repo)
	if err != nil {
		return nil, "", err
	}
	if r.pr.BaseRef == info.DefaultBranch {
		cfg, err := r.o.parseTrusted(ctx, baseCfg, r.req.Repo.FullName(), fromTree(r.base))
		if err != nil {
			return nil, "", fmt.Errorf("the base branch's %s is invalid, so nothing can be planned:\n%w", config.RepoFile, err)
		}
		return cfg, "", nil
	}
	cfg, why, err := r.o.trustedConfig(ctx, r.req.PR)
	if err != nil {
		return nil, "", err
	}
	if cfg == nil {
		return nil, "", fmt.Errorf("nothing can be planned: %s", why.Text())
	}
	return cfg, fmt.Sprintf("This pull request targets %s, not the default branch %s: it is planned with the default branch's %s, "+
		"since configuration is trusted only from there.", r.pr.BaseRef, info.DefaultBranch, config.RepoFile), nil
}

// lockedBy is the pull request holding an on-comment environment's lock,
// shown in its summary row (0: none, or it could not be read).
func (r *planRun) lockedBy(ctx context.Context, env config.Environment) int {
	if env.Apply != config.ApplyOnComment {
		return 0
	}
	lock, err := r.o.state.ReadLock(ctx, env, r.req.Repo.FullName())
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Str("env", env.Name).Msg("could not read the environment's lock")
		return 0
	}
	if lock == nil {
		return 0
	}
	return holderPR(lock.Holder)
}
