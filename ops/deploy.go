package ops

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"time"

	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/planner"
)

// PushRequest is a push to a repository's default branch: a merged pull
// request (merge commit, squash, merge queue) or a direct push.
type PushRequest struct {
	Client *gh.Client
	Repo   gh.Repo
	Branch string // the default branch
	SHA    string // the pushed commit
	Pusher string
	// Detach hands the deploy to the apply pool (see ApplyRequest.Detach).
	Detach func() func()
}

// DeployPush deploys a push to the default branch: every environment whose
// plan at the pushed commit is not empty, in `after` order (an environment
// is deployed only once each of its `after` environments converged at the
// same commit); environments whose plan is empty get a record-only update
// to the pushed commit, so records always name a commit of the default
// branch. Pushes are handled one at a time per repository; a push that is
// no longer the branch head is skipped — the newer push deploys — so an
// environment never goes back to an older commit.
func (o *Ops) DeployPush(ctx context.Context, req PushRequest) error {
	log := zerolog.Ctx(ctx).With().Str("commit", comments.ShortSHA(req.SHA)).Logger()
	ctx = log.WithContext(ctx)
	head, err := req.Client.BranchHead(ctx, req.Repo, req.Branch)
	if err != nil {
		return err
	}
	if head != req.SHA {
		log.Info().Str("head", comments.ShortSHA(head)).Msg("a newer push is the branch head: this one is not deployed")
		return nil
	}
	data, found, err := req.Client.File(ctx, req.Repo, req.SHA, config.RepoFile)
	if err != nil || !found {
		return err
	}
	cfg, err := o.parseTrusted(ctx, data, req.Repo.FullName(), fromGitHub(req.Client, req.Repo, req.SHA))
	if err != nil {
		log.Warn().Err(err).Msg("the default branch's configuration is invalid: nothing deployed")
		return nil
	}
	d := &deployRun{o: o, req: req, cfg: cfg}
	if err := d.findPR(ctx); err != nil {
		return err
	}
	tree, err := req.Client.Tarball(ctx, req.Repo, req.SHA)
	if err != nil {
		return err
	}
	d.fsys = planner.NewMemFS(tree.Files)
	o.runDetached(ctx, req.Detach, func(ctx context.Context) {
		d.deployAll(ctx)
		if d.pr != nil {
			o.releasePRLocks(ctx, PR{Client: req.Client, Repo: req.Repo, Number: d.pr.Number}, cfg)
		}
	})
	return nil
}

// deployRun is the state of one DeployPush.
type deployRun struct {
	o    *Ops
	req  PushRequest
	cfg  *config.RepoConfig
	fsys fs.FS
	// pr is the merged pull request the push brings (nil: a direct push).
	pr     *gh.PullRequest
	checks *requirementChecks
	// actor is who asked for a held-back deploy ("": the merger).
	actor string
}

// findPR finds the pull request merged as the pushed commit.
func (d *deployRun) findPR(ctx context.Context) error {
	numbers, err := d.req.Client.PullsForCommit(ctx, d.req.Repo, d.req.SHA)
	if err != nil {
		return err
	}
	for _, n := range numbers {
		pr, err := d.req.Client.PullRequest(ctx, d.req.Repo, n, d.o.opts.Mergeable)
		if err != nil {
			return err
		}
		if pr.Merged {
			d.pr = pr
			d.checks = newRequirementChecks(d.o, PR{Client: d.req.Client, Repo: d.req.Repo, Number: n}, pr)
			return nil
		}
	}
	return nil
}

func (d *deployRun) prNumber() int {
	if d.pr == nil {
		return 0
	}
	return d.pr.Number
}

// deployAll deploys the environments in `after` order, then reports those
// it did not deploy: a failure status each, and one note on the merged PR.
func (d *deployRun) deployAll(ctx context.Context) {
	failed := map[string]bool{}
	var held []comments.Refusal
	for _, env := range config.Ordered(d.cfg.Environments) {
		ectx := zerolog.Ctx(ctx).With().Str("env", env.Name).Logger().WithContext(ctx)
		if reasons := d.deployEnv(ectx, env, failed); len(reasons) > 0 {
			failed[env.Name] = true
			d.notDeployed(ectx, env, reasons)
			held = append(held, comments.Refusal{Env: env.Name, Reasons: reasons})
		}
	}
	if d.pr != nil && len(held) > 0 {
		if _, err := d.req.Client.CreateComment(ctx, d.req.Repo, d.pr.Number, comments.NotDeployedComment(d.req.SHA, held)); err != nil {
			zerolog.Ctx(ctx).Error().Err(err).Msg("could not post the not-deployed note")
		}
	}
}

// deployEnv deploys one environment; reasons say why it was not deployed.
// An environment that was deployed but did not converge is marked failed
// (its reports say how) so `after` environments wait.
//
// The environment is planned under its apply mutex, and that plan is what
// the applier applies: no other tugboat write can come in between, and
// re-planning at once would double a merge deploy's planning time.
func (d *deployRun) deployEnv(ctx context.Context, env config.Environment, failed map[string]bool) []comments.Reason {
	log := zerolog.Ctx(ctx)
	if dep := firstFailed(env.After, failed); dep != "" {
		return []comments.Reason{comments.ReasonAfterFailed(dep)}
	}
	if r := d.pinGate(ctx, env); r != nil {
		return []comments.Reason{*r}
	}
	held, release, err := d.o.state.AcquireMutex(ctx, env, d.req.Repo.FullName())
	if err != nil {
		return []comments.Reason{refusalReason(env.Name, err)}
	}
	defer release()
	ctx = held
	start := time.Now()
	in := planner.Input{Repo: d.fsys, RepoName: d.req.Repo.FullName(), Env: env, Commit: d.req.SHA}
	planned, err := d.o.applier.Plan(ctx, in)
	if err != nil {
		log.Error().Err(err).Msg("planning the pushed commit failed")
		return []comments.Reason{comments.ReasonOther("planning failed: " + err.Error())}
	}
	plan := planned.Plan
	if len(plan.Problems) > 0 {
		return []comments.Reason{comments.ReasonProblems(len(plan.Problems))}
	}
	if !plan.HasChanges() {
		d.recordOnly(ctx, env, plan)
		return nil
	}
	reasons, err := d.mergeRequirements(ctx, env)
	if err != nil {
		return []comments.Reason{comments.ReasonOther(err.Error())}
	}
	if len(reasons) > 0 {
		return reasons
	}
	lock, err := d.o.state.ReadLock(ctx, env, d.req.Repo.FullName())
	if err != nil {
		return []comments.Reason{comments.ReasonOther(err.Error())}
	}
	if lock != nil && lock.Holder != lockHolder(d.req.Repo, d.prNumber()) {
		// Another pull request applied its own change here before merge:
		// deploying would silently replace it. Its next plan includes this
		// push; it deploys when it merges or is unlocked.
		return []comments.Reason{lockedReason(env.Name, lock.Holder)}
	}
	actor := d.actor
	switch {
	case actor != "":
	case d.pr != nil && d.pr.MergedBy != "":
		actor = d.pr.MergedBy
	default:
		actor = d.req.Pusher
	}
	t := writeTarget{Client: d.req.Client, Repo: d.req.Repo, PR: d.prNumber(), Actor: actor, Trigger: comments.TriggerMerge, Head: d.req.SHA}
	t.Promotion = d.pr != nil && comments.IsPromotionBranch(d.pr.HeadRef)
	t.PromoteTo = promoteTargets(d.cfg, env.Name)
	out := d.o.writeHeld(ctx, t, env, plan.Digest, in, planned, start)
	switch {
	case out.Refused != nil:
		return []comments.Reason{refusalReason(env.Name, out.Refused)}
	case !out.Converged:
		failed[env.Name] = true
	}
	return nil
}

// mergeRequirements checks env's requirements for a merge deploy. At merge
// only `approved` is left to check, on the merged PR's final head (reviews
// stay readable); `mergeable` was GitHub's to enforce. A push without a
// pull request deploys only environments that require nothing.
func (d *deployRun) mergeRequirements(ctx context.Context, env config.Environment) ([]comments.Reason, error) {
	if len(env.Requires) == 0 {
		return nil, nil
	}
	if d.pr == nil {
		return []comments.Reason{comments.ReasonNoPullRequest()}, nil
	}
	if !slices.Contains(env.Requires, config.RequireApproved) {
		return nil, nil
	}
	st, err := d.checks.approvalsState(ctx)
	if err != nil {
		return nil, err
	}
	return st.unmet(env.Approvals), nil
}

// recordOnly moves env's record to the pushed commit when the commit
// changes nothing there (it was applied before merge, or touches other
// environments only).
func (d *deployRun) recordOnly(ctx context.Context, env config.Environment, plan *planner.Plan) {
	rec := kube.Record{Commit: d.req.SHA, PR: d.prNumber(), Head: d.req.SHA, Digest: plan.Digest,
		Outcome: kube.OutcomeConverged, Time: time.Now(), Trigger: kube.TriggerRecord}
	if err := d.o.state.RecordCommit(ctx, env, d.req.Repo.FullName(), rec); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("could not record the pushed commit")
	}
}

// notDeployed posts the failure status of an environment the push did not
// deploy, on the pushed commit.
func (d *deployRun) notDeployed(ctx context.Context, env config.Environment, reasons []comments.Reason) {
	log := zerolog.Ctx(ctx)
	log.Info().Str("reason", reasons[0].Text()).Msg("not deployed")
	state, desc := comments.NotDeployedStatus(reasons)
	if err := d.req.Client.SetStatus(ctx, d.req.Repo, d.req.SHA, gh.Status{Context: statusContext(env.Name), State: state, Description: desc}); err != nil {
		log.Error().Err(err).Msg("could not post the not-deployed status")
	}
}

// releasePRLocks releases every lock the pull request holds.
func (o *Ops) releasePRLocks(ctx context.Context, pr PR, cfg *config.RepoConfig) {
	holder := lockHolder(pr.Repo, pr.Number)
	for _, env := range cfg.Environments {
		err := o.state.ReleaseLock(ctx, env, pr.Repo.FullName(), holder)
		var other *LockedError
		if err != nil && !errors.As(err, &other) {
			zerolog.Ctx(ctx).Error().Err(err).Str("env", env.Name).Msg("could not release " + holder + "'s lock")
		}
	}
}
