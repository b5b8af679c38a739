package ops

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/kube"
)

// GitHubApp is what the resync asks of the app itself: its installations,
// their clients, and a repository's client. *gh.Factory is the real one.
type GitHubApp interface {
	RepoClients
	Installations(ctx context.Context) ([]int64, error)
	Installation(id int64) (*gh.Client, error)
}

// Locker is a lock on a key every replica shares; the webhook queue takes
// it around each event (keys: PRKey for a pull request's events, RepoKey
// for pushes). kube.PRLocker (a Lease per key in the home namespace) is the
// real one across replicas.
type Locker interface {
	Lock(ctx context.Context, key string) (held context.Context, unlock func(), err error)
}

// PRKey is the lock key of a pull request's events: "owner/repo#N".
func PRKey(repo gh.Repo, number int) string { return fmt.Sprintf("%s#%d", repo.FullName(), number) }

// RepoKey is the lock key of a repository's pushes: "owner/repo".
func RepoKey(repo gh.Repo) string { return repo.FullName() }

// resyncLockWait bounds the resync's wait for a pull request's lock: a
// replica holding it is handling the pull request, which is then not the
// resync's to make good this round.
const resyncLockWait = 30 * time.Second

// lock takes key's lock, waiting at most wait. The wait's bound is not
// the held context's: once taken, the work under it runs as long as it
// needs (held ends only with ctx or when the lock is lost).
func (o *Ops) lock(ctx context.Context, key string, wait time.Duration) (context.Context, func(), error) {
	lctx, cancel := context.WithCancelCause(ctx)
	timer := time.AfterFunc(wait, func() { cancel(fmt.Errorf("waited %s for the lock of %s", wait, key)) })
	held, unlock, err := o.locker.Lock(lctx, key)
	timer.Stop()
	if err == nil && lctx.Err() != nil {
		unlock()
		err = context.Cause(lctx)
	}
	if err != nil {
		cancel(nil)
		return nil, nil, err
	}
	return held, func() { unlock(); cancel(nil) }, nil
}

// resyncConcurrency bounds the pull requests the resync plans at once.
const resyncConcurrency = 4

// headRuns is what tugboat's own check runs on a head say.
type headRuns struct {
	// planned: a plan (or "no environment affected") of this head
	// completed and no run of tugboat's is still open on it.
	planned bool
	// open are tugboat's runs on the head still queued or in progress.
	open []gh.CheckRunInfo
	// earlyFailed: the run "tugboat" says planning failed before any
	// environment was known (a fetch failed): a redelivery should plan.
	earlyFailed bool
	// unposted: an environment's run was concluded without a plan (it
	// carries no plan digest): the handling failed before its plan was
	// posted, so a redelivery should plan too.
	unposted bool
}

// headState reads tugboat's runs among runs (the latest of each name):
// tugboat/<env> and "tugboat", made by this App; tugboat/config is left
// out, since it is posted before any environment is planned.
func (o *Ops) headState(runs []gh.CheckRunInfo) headRuns {
	var st headRuns
	completed := false
	for _, r := range runs {
		if r.AppID != o.opts.AppID || r.Name == CheckConfig {
			continue
		}
		if r.Name != CheckEarlyFailure && !strings.HasPrefix(r.Name, CheckPrefix) {
			continue
		}
		if r.Status == "completed" {
			completed = true
			if r.Name == CheckEarlyFailure && r.Conclusion == comments.ConclusionFailure {
				st.earlyFailed = true
			}
			if r.Name != CheckEarlyFailure && r.ExternalID == "" {
				st.unposted = true
			}
		} else {
			st.open = append(st.open, r)
		}
	}
	st.planned = completed && len(st.open) == 0
	return st
}

// markSkipped completes the run "tugboat" on the head with out (conclusion
// skipped): the head was looked at and has nothing to plan, which every
// replica's IfNotPlanned and the resync read from GitHub.
func (r *planRun) markSkipped(ctx context.Context, out comments.CheckRun) {
	_, err := r.req.Client.CreateCheckRun(ctx, r.req.Repo, gh.CheckRun{
		Name: CheckEarlyFailure, HeadSHA: r.pr.HeadSHA, Status: "completed", Conclusion: out.Conclusion,
		Title: out.Title, Summary: out.Summary,
	})
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("could not mark the head as having nothing to plan; the resync will look at it again")
	}
}

// Resync makes good what webhooks did not do — a delivery acknowledged and
// then lost in a crash, one GitHub never delivered, work a killed replica
// left half done. The leader runs it every resync interval:
//
//   - applies left in progress by a stopped process are concluded
//     (ConcludeInterrupted);
//   - in every installed repository with a .tugboat.yaml on its default
//     branch, every open pull request whose head has no completed tugboat
//     run is planned — forks only where fork plans are on, since others
//     wait for a maintainer's /plan; tugboat runs a dead process left open
//     on the head are first concluded "interrupted", unless a live process
//     holds that environment's apply mutex;
//   - an on-merge or auto environment whose record is behind the default
//     branch head, with no deploy of that head reported yet, is deployed
//     through the merge-deploy path (which records an empty plan instead).
//
// Every check is against GitHub and the clusters, not a local cache, so
// any replica may run it; it takes the same per-PR locks as the webhook
// queue. Errors of one repository do not stop the others.
func (o *Ops) Resync(ctx context.Context) error {
	if o.github == nil {
		return errors.New("resync: no GitHub app client")
	}
	log := zerolog.Ctx(ctx)
	start := time.Now()
	var errs []error
	if err := o.ConcludeInterrupted(ctx, o.github); err != nil {
		errs = append(errs, err)
	}
	ids, err := o.github.Installations(ctx)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	var stats resyncStats
	for _, id := range ids {
		c, err := o.github.Installation(id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		repos, err := c.InstalledRepos(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("installation %d: %w", id, err))
			continue
		}
		for _, r := range repos {
			if r.Archived || (o.opts.RepoAllowed != nil && !o.opts.RepoAllowed(r.Repo.FullName())) {
				continue
			}
			rctx := log.With().Str("repo", r.Repo.FullName()).Logger().WithContext(ctx)
			if err := o.resyncRepo(rctx, c, r, &stats); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", r.Repo, err))
			}
		}
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	log.Info().Int("repositories", stats.repos).Int("open_prs", stats.prs).Int("planned", stats.planned).
		Int("concluded", stats.concluded).Int("deployed", stats.deployed).Dur("took", time.Since(start)).Msg("resync done")
	return errors.Join(errs...)
}

// resyncStats counts what a round did, for its log line.
type resyncStats struct {
	mu                                       sync.Mutex
	repos, prs, planned, concluded, deployed int
}

func (s *resyncStats) add(f func(s *resyncStats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// resyncRepo resyncs one repository.
func (o *Ops) resyncRepo(ctx context.Context, c *gh.Client, r gh.InstalledRepo, stats *resyncStats) error {
	data, found, err := c.File(ctx, r.Repo, r.DefaultBranch, config.RepoFile)
	if err != nil || !found {
		return err
	}
	cfg, err := o.parseTrusted(ctx, data, r.Repo.FullName(), fromGitHub(c, r.Repo, r.DefaultBranch))
	if err != nil {
		// tugboat/config on the pull request that brought it says why.
		zerolog.Ctx(ctx).Warn().Err(err).Msg("the default branch's configuration is invalid: not resynced")
		return nil
	}
	stats.add(func(s *resyncStats) { s.repos++ })
	prs, err := c.OpenPullRequests(ctx, r.Repo)
	if err != nil {
		return err
	}
	var (
		mu   sync.Mutex
		errs []error
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(resyncConcurrency)
	for _, p := range prs {
		stats.add(func(s *resyncStats) { s.prs++ })
		if p.HeadRepo != r.Repo.FullName() && !o.opts.PlanForks {
			continue // a fork: waits for a maintainer's /plan
		}
		g.Go(func() error {
			pctx := zerolog.Ctx(gctx).With().Int("pr", p.Number).Logger().WithContext(gctx)
			if err := o.resyncPR(pctx, PR{Client: c, Repo: r.Repo, Number: p.Number}, p.HeadSHA, cfg, stats); err != nil {
				zerolog.Ctx(pctx).Error().Err(err).Msg("resync of the pull request failed")
				mu.Lock()
				errs = append(errs, fmt.Errorf("#%d: %w", p.Number, err))
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	if err := o.deployBehind(ctx, c, r, cfg, stats); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// resyncPR plans one open pull request if its head has no completed
// tugboat run. The cheap check (one list of check runs) comes first; only
// a head that needs work takes the pull request's lock and is read again.
func (o *Ops) resyncPR(ctx context.Context, pr PR, head string, cfg *config.RepoConfig, stats *resyncStats) error {
	runs, err := pr.Client.CheckRunsForRef(ctx, pr.Repo, head)
	if err != nil {
		return err
	}
	if o.headState(runs).planned {
		return nil
	}
	if o.locker != nil {
		held, unlock, err := o.lock(ctx, PRKey(pr.Repo, pr.Number), resyncLockWait)
		if err != nil {
			zerolog.Ctx(ctx).Info().Err(err).Msg("the pull request is being handled elsewhere: left to that replica this round")
			return nil
		}
		defer unlock()
		ctx = held
	}
	// Read again under the lock: a replica may have planned it meanwhile,
	// or a push moved the head.
	cur, err := pr.Client.PullRequest(ctx, pr.Repo, pr.Number, o.opts.Mergeable)
	if err != nil {
		return err
	}
	if cur.State != "open" {
		return nil
	}
	runs, err = pr.Client.CheckRunsForRef(ctx, pr.Repo, cur.HeadSHA)
	if err != nil {
		return err
	}
	st := o.headState(runs)
	if st.planned {
		return nil
	}
	log := zerolog.Ctx(ctx).With().Str("head", comments.ShortSHA(cur.HeadSHA)).Logger()
	ctx = log.WithContext(ctx)
	busy, n, err := o.concludeOpen(ctx, pr, cur.HeadSHA, cfg, st.open)
	stats.add(func(s *resyncStats) { s.concluded += n })
	if err != nil {
		return err
	}
	if busy {
		log.Info().Msg("an environment of the pull request is being written by a live process: not planned this round")
		return nil
	}
	log.Info().Msg("resync: the head has no completed tugboat run; planning it")
	stats.add(func(s *resyncStats) { s.planned++ })
	return o.PlanPR(ctx, PlanRequest{PR: pr})
}

// concludeOpen concludes tugboat's runs and pending statuses a stopped
// process left open on head, each as interrupted — unless a live process
// holds that environment's apply mutex (then busy is true and nothing is
// touched: that process concludes its own). n counts what was concluded.
func (o *Ops) concludeOpen(ctx context.Context, pr PR, head string, cfg *config.RepoConfig, open []gh.CheckRunInfo) (busy bool, n int, err error) {
	statuses, err := pr.Client.Statuses(ctx, pr.Repo, head)
	if err != nil {
		return false, 0, err
	}
	var pending []gh.Status
	for _, st := range statuses {
		if st.State == comments.StatePending && st.Creator == o.opts.BotLogin && strings.HasPrefix(st.Context, StatusPrefix) {
			pending = append(pending, st)
		}
	}
	if len(open) == 0 && len(pending) == 0 {
		return false, 0, nil
	}
	// Every environment whose run or status is open must be free of a live
	// writer first: its process may still conclude them itself.
	envs := map[string]bool{}
	for _, r := range open {
		envs[strings.TrimPrefix(r.Name, CheckPrefix)] = true
	}
	for _, st := range pending {
		envs[strings.TrimPrefix(st.Context, StatusPrefix)] = true
	}
	for name := range envs {
		env, ok := cfg.Env(name)
		if !ok || o.records == nil {
			continue
		}
		holder, live, err := o.records.MutexHolder(ctx, env, pr.Repo.FullName())
		if err != nil {
			return false, 0, err
		}
		if live {
			zerolog.Ctx(ctx).Info().Str("env", name).Str("holder", holder).Msg("the environment's apply mutex is held by a live process")
			return true, 0, nil
		}
	}
	for _, r := range open {
		env := strings.TrimPrefix(r.Name, CheckPrefix)
		out := comments.InterruptedPlanCheckRun(env)
		if err := pr.Client.UpdateCheckRun(ctx, pr.Repo, r.ID, gh.CheckRun{
			Name: r.Name, Status: "completed", Conclusion: out.Conclusion,
			Title: out.Title, Summary: out.Summary, Text: out.Text, Actions: []gh.Action{replanAction},
		}); err != nil {
			return false, n, err
		}
		n++
		zerolog.Ctx(ctx).Warn().Int64("run", r.ID).Str("check", r.Name).Msg("concluded a check run a stopped process left in progress")
	}
	for _, st := range pending {
		state, desc := comments.InterruptedStatus(strings.TrimPrefix(st.Context, StatusPrefix))
		if err := pr.Client.SetStatus(ctx, pr.Repo, head, gh.Status{Context: st.Context, State: state, Description: desc, TargetURL: st.TargetURL}); err != nil {
			return false, n, err
		}
		n++
	}
	return false, n, nil
}

// deployBehind deploys the default branch head when an on-merge or auto
// environment the bot deployed before records an older commit and nothing
// has reported a deploy of the head there yet (a status
// tugboat/apply/<env> on it: a deploy that was refused or failed is not
// retried every round). DeployPush plans every environment under its
// mutex, deploys those whose plan is not empty and records the others.
func (o *Ops) deployBehind(ctx context.Context, c *gh.Client, r gh.InstalledRepo, cfg *config.RepoConfig, stats *resyncStats) error {
	head, err := c.BranchHead(ctx, r.Repo, r.DefaultBranch)
	if err != nil {
		return err
	}
	var behind []string
	for _, env := range cfg.Environments {
		if env.Apply != config.ApplyOnMerge && env.Apply != config.ApplyAuto {
			continue
		}
		rec, err := o.state.Record(ctx, env, r.Repo.FullName())
		if err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Str("env", env.Name).Msg("could not read the environment's record")
			continue
		}
		if rec.Commit != "" && rec.Commit != head && rec.Outcome != kube.OutcomeInProgress {
			behind = append(behind, env.Name)
		}
	}
	if len(behind) == 0 {
		return nil
	}
	statuses, err := c.Statuses(ctx, r.Repo, head)
	if err != nil {
		return err
	}
	reported := map[string]bool{}
	for _, st := range statuses {
		if st.Creator == o.opts.BotLogin {
			reported[strings.TrimPrefix(st.Context, StatusPrefix)] = true
		}
	}
	due := false
	for _, env := range behind {
		due = due || !reported[env]
	}
	if !due {
		return nil
	}
	if o.locker != nil {
		held, unlock, err := o.lock(ctx, RepoKey(r.Repo), resyncLockWait)
		if err != nil {
			zerolog.Ctx(ctx).Info().Err(err).Msg("a push of the repository is being handled elsewhere: left to that replica this round")
			return nil
		}
		defer unlock()
		ctx = held
	}
	zerolog.Ctx(ctx).Info().Strs("envs", behind).Str("head", comments.ShortSHA(head)).Msg("resync: environments are behind the default branch; deploying its head")
	stats.add(func(s *resyncStats) { s.deployed++ })
	return o.DeployPush(ctx, PushRequest{Client: c, Repo: r.Repo, Branch: r.DefaultBranch, SHA: head, Pusher: o.opts.BotLogin})
}
