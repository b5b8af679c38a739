package ops

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/planner"
)

// DriftOptions configure drift rounds.
type DriftOptions struct {
	// Interval is how often an environment is checked unless its
	// .tugboat.yaml says otherwise (default config.DefaultDriftInterval).
	Interval time.Duration
	// Concurrency bounds the environments planned at once in a round
	// (default config.DefaultDriftConcurrency).
	Concurrency int
}

// DriftRound checks every environment the bot has deployed for drift: the
// ApplySet parents in each configured cluster say which repository and
// environment were deployed there and at which commit (no database). An
// environment is checked when its repository's trusted configuration (the
// default branch's .tugboat.yaml) still has it on that cluster, its
// `drift:` is not off, and its interval has passed since its last check
// (recorded on the parent, so any replica may run the next round). The
// recorded commit is planned against the cluster with the same planner,
// ignore rules and opt-outs as a pull request's plan; a non-empty plan is
// drift. Each outcome is reported (issue, commit status, the parent's
// drift annotations: drift_report.go), and `apply: auto` environments are
// healed (heal.go). Environments are checked concurrently, at most
// Drift.Concurrency at once; a cluster that does not answer is skipped,
// not reported as drift.
//
// It returns once every environment was looked at, with the errors met.
func (o *Ops) DriftRound(ctx context.Context) error {
	if o.records == nil || o.opts.Clients == nil {
		return nil
	}
	start := time.Now()
	log := zerolog.Ctx(ctx)
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	addErr := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	targets := map[string][]driftTarget{}
	for _, t := range o.driftTargets(ctx, addErr) {
		targets[t.rec.Set.Repo] = append(targets[t.rec.Set.Repo], t)
	}
	sem := make(chan struct{}, o.opts.Drift.Concurrency)
	checked := 0
	for repo, ts := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rlog := log.With().Str("repo", repo).Logger()
			rctx := rlog.WithContext(ctx)
			rc, err := o.driftRepo(rctx, repo)
			if err != nil {
				rlog.Error().Err(err).Msg("drift: could not read the repository's configuration")
				addErr(fmt.Errorf("%s: %w", repo, err))
				return
			}
			if rc == nil {
				return
			}
			for _, t := range ts {
				env, ok := rc.cfg.Env(t.rec.Set.Env)
				if !ok || env.Cluster != t.cluster || env.DriftOff || !driftDue(t.rec, driftInterval(env, o.opts.Drift.Interval), start) ||
					t.rec.Record.Outcome == kube.OutcomeInProgress || t.rec.Record.Commit == "" {
					continue
				}
				mu.Lock()
				checked++
				mu.Unlock()
				wg.Add(1)
				go func() {
					defer wg.Done()
					sem <- struct{}{}
					defer func() { <-sem }()
					elog := rlog.With().Str("env", env.Name).Str("cluster", t.cluster).Str("commit", comments.ShortSHA(t.rec.Record.Commit)).Logger()
					if err := o.driftEnv(elog.WithContext(ctx), rc, env, t, start); err != nil {
						elog.Error().Err(err).Msg("drift: could not check or report the environment")
						addErr(fmt.Errorf("%s environment %s: %w", repo, env.Name, err))
					}
				}()
			}
		}()
	}
	wg.Wait()
	log.Debug().Int("checked", checked).Dur("took", time.Since(start)).Msg("drift round done")
	return errors.Join(errs...)
}

// driftTarget is one environment's record found in a cluster.
type driftTarget struct {
	cluster string
	rec     kube.ApplySetRecord
}

// driftTargets lists the records of every cluster, side by side: one that
// does not answer must not hold up the others. Its environments are left
// as they are — their last known drift state stays (the badge reads
// "unknown" from a cluster it cannot read either) — and no issue is
// touched, so an outage is never reported as drift.
func (o *Ops) driftTargets(ctx context.Context, addErr func(error)) []driftTarget {
	var (
		mu  sync.Mutex
		out []driftTarget
		wg  sync.WaitGroup
	)
	for _, cluster := range o.records.ClusterNames() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs, err := o.records.ListRecords(ctx, cluster)
			if err != nil {
				zerolog.Ctx(ctx).Warn().Err(err).Str("cluster", cluster).Msg("drift: the cluster did not answer; its environments are not checked this round")
				addErr(fmt.Errorf("cluster %s: %w", cluster, err))
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, r := range recs {
				out = append(out, driftTarget{cluster: cluster, rec: r})
			}
		}()
	}
	wg.Wait()
	return out
}

func driftInterval(env config.Environment, def time.Duration) time.Duration {
	if env.Drift > 0 {
		return env.Drift
	}
	return def
}

// driftDue reports whether an environment's interval has passed since its
// last check. A check records the start of its round, and rounds start an
// interval apart, so a quarter of the interval is allowed for the jitter of
// the ticker — or an environment checked at every round would be skipped
// every other one.
func driftDue(r kube.ApplySetRecord, interval time.Duration, roundStart time.Time) bool {
	last := r.Drift.Time
	return last.IsZero() || roundStart.Sub(last) >= interval-interval/4
}

// driftRepo is what a round reads once per repository: its client, its
// default branch, its trusted configuration, and the trees of the
// recorded commits (several environments often share one).
type driftRepo struct {
	client *gh.Client
	repo   gh.Repo
	branch string
	cfg    *config.RepoConfig

	mu    sync.Mutex
	trees map[string]*treeLoad
}

type treeLoad struct {
	once sync.Once
	fsys *planner.MemFS
	err  error
}

// driftRepo reads a repository's client and trusted configuration; nil
// (and no error) when the app is no longer installed there, or the
// default branch has no valid .tugboat.yaml: nothing of it is checked.
func (o *Ops) driftRepo(ctx context.Context, full string) (*driftRepo, error) {
	log := zerolog.Ctx(ctx)
	repo := splitFullName(full)
	client, err := o.opts.Clients.ForRepo(ctx, repo)
	if gh.IsNotFound(err) {
		log.Info().Msg("drift: the app is no longer installed on the repository; its environments are not checked")
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cfg, why, err := o.trustedConfig(ctx, PR{Client: client, Repo: repo})
	if err != nil {
		return nil, err
	}
	if cfg == nil {
		log.Warn().Str("reason", why.Text()).Msg("drift: the repository's configuration is unusable; its environments are not checked")
		return nil, nil
	}
	info, err := client.Repository(ctx, repo)
	if err != nil {
		return nil, err
	}
	return &driftRepo{client: client, repo: repo, branch: info.DefaultBranch, cfg: cfg, trees: map[string]*treeLoad{}}, nil
}

// tree reads the repository at commit, once per round.
func (rc *driftRepo) tree(ctx context.Context, commit string) (*planner.MemFS, error) {
	rc.mu.Lock()
	l, ok := rc.trees[commit]
	if !ok {
		l = &treeLoad{}
		rc.trees[commit] = l
	}
	rc.mu.Unlock()
	l.once.Do(func() {
		// The commit is looked up first: a download of one that does not
		// exist fails without saying so in a way one can tell apart.
		if _, err := rc.client.CommitTree(ctx, rc.repo, commit); err != nil {
			if gh.IsNotFound(err) {
				err = fmt.Errorf("%w: %w", errNoSuchCommit, err)
			}
			l.err = err
			return
		}
		tree, err := rc.client.Tarball(ctx, rc.repo, commit)
		if err != nil {
			l.err = err
			return
		}
		l.fsys = planner.NewMemFS(tree.Files)
	})
	return l.fsys, l.err
}

// errNoSuchCommit: the recorded commit is not a commit of the repository.
var errNoSuchCommit = errors.New("no such commit")

// driftCheck is the outcome of planning an environment's recorded commit.
type driftCheck struct {
	status kube.DriftStatus
	plan   *planner.Plan // nil unless the check was made
}

// driftEnv checks one environment, reports what it found, and heals it
// when it may.
func (o *Ops) driftEnv(ctx context.Context, rc *driftRepo, env config.Environment, t driftTarget, roundStart time.Time) error {
	check := o.checkDrift(ctx, rc, env, t.rec.Record.Commit, roundStart)
	prev := t.rec.Drift
	d := &driftReporter{o: o, rc: rc, env: env, target: t}
	if check.status.State == kube.DriftInSync {
		o.heals.inSync(t.rec.Set.Repo + "/" + env.Name)
	}
	if check.status.State != kube.DriftDrifted || env.Apply != config.ApplyAuto {
		_, err := d.report(ctx, prev, check, "", false)
		return err
	}
	return o.driftHeal(ctx, d, prev, check, roundStart)
}

// checkDrift plans the recorded commit against the cluster. Anything that
// keeps the check from being made is DriftUnknown with a secret-free
// reason, never drift: a commit that is not a full SHA or cannot be read
// from the repository (a parent edited by hand), a cluster that does not
// answer, a commit whose render has problems.
func (o *Ops) checkDrift(ctx context.Context, rc *driftRepo, env config.Environment, commit string, at time.Time) driftCheck {
	log := zerolog.Ctx(ctx)
	unknown := func(msg string) driftCheck {
		return driftCheck{status: kube.DriftStatus{State: kube.DriftUnknown, Commit: commit, Time: at, Message: msg}}
	}
	if !isCommitSHA(commit) {
		return unknown(fmt.Sprintf("the recorded commit %q is not a commit SHA (was the ApplySet parent edited by hand?); nothing is checked or healed until an apply records a commit again", clipRunes(commit, 60)))
	}
	fsys, err := rc.tree(ctx, commit)
	if err != nil {
		log.Warn().Err(err).Msg("drift: could not read the recorded commit")
		if errors.Is(err, errNoSuchCommit) {
			return unknown(fmt.Sprintf("the recorded commit %s is not a commit of %s (was the ApplySet parent edited by hand?); nothing is checked or healed until an apply records a commit again", comments.ShortSHA(commit), rc.repo.FullName()))
		}
		return unknown(fmt.Sprintf("the recorded commit %s could not be read from GitHub", comments.ShortSHA(commit)))
	}
	plan, err := o.planner.Plan(ctx, planner.Input{Repo: fsys, RepoName: rc.repo.FullName(), Env: env, Commit: commit, Renderer: o.driftRenderer()})
	if err != nil {
		// The error may quote objects; the log has it, the record a reason.
		log.Warn().Err(err).Msg("drift: planning the recorded commit failed")
		if isUnreachable(err) {
			return unknown(fmt.Sprintf("cluster %s did not answer", env.Cluster))
		}
		return unknown(fmt.Sprintf("planning the recorded commit against cluster %s failed (the bot's log has the error)", env.Cluster))
	}
	for _, p := range plan.Problems {
		if p.Unreachable {
			log.Warn().Str("problem", p.Message).Msg("drift: the cluster did not answer")
			return unknown(fmt.Sprintf("cluster %s did not answer", env.Cluster))
		}
	}
	if len(plan.Problems) > 0 {
		return unknown(fmt.Sprintf("the recorded commit has %s in cluster %s (render, validation or dry-run); they are not counted as drift", problemCount(len(plan.Problems)), env.Cluster))
	}
	n := comments.DriftObjects(plan)
	st := kube.DriftStatus{State: kube.DriftInSync, Objects: n, Commit: commit, Time: at}
	if n > 0 {
		st.State = kube.DriftDrifted
	}
	return driftCheck{status: st, plan: plan}
}

// isCommitSHA reports whether s is a full commit SHA (SHA-1 or SHA-256 in
// lowercase hex): a branch or tag name would make a check — and a heal —
// follow whatever it points to now.
func isCommitSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

func problemCount(n int) string {
	if n == 1 {
		return "1 problem"
	}
	return fmt.Sprintf("%d problems", n)
}

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// isUnreachable reports whether err is the cluster not answering (refused,
// timed out, DNS) rather than something it said.
func isUnreachable(err error) bool {
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &oe) || errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded)
}
