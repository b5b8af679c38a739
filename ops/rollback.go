package ops

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/applier"
	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/planner"
)

// RollbackRequest is `/rollback` on a merged pull request (Env empty: open
// its revert pull request) or `/rollback ENV --now` anywhere (break glass).
type RollbackRequest struct {
	PR
	Actor string
	Env   string
	Now   bool
}

// Rollback carries out /rollback and replies where it was asked.
func (o *Ops) Rollback(ctx context.Context, req RollbackRequest) error {
	if req.Now {
		return o.rollbackNow(ctx, req)
	}
	return o.revertPR(ctx, req)
}

// revertPR opens the revert pull request of a merged pull request through
// GitHub's own revert, for whoever may apply an environment it changed.
func (o *Ops) revertPR(ctx context.Context, req RollbackRequest) error {
	refuse := func(r comments.Reason) error {
		zerolog.Ctx(ctx).Info().Str("reason", r.Text()).Msg("rollback refused")
		return o.Reply(ctx, req.PR, comments.RollbackRefusedReply(req.Actor, r))
	}
	info, err := req.Client.PullRequest(ctx, req.Repo, req.Number, o.opts.Mergeable)
	if err != nil {
		return err
	}
	if !info.Merged {
		return refuse(comments.ReasonNotMergedYet())
	}
	cfg, why, err := o.trustedConfig(ctx, req.PR)
	if err != nil {
		return err
	}
	if cfg == nil {
		return refuse(why)
	}
	files, err := req.Client.PullFiles(ctx, req.Repo, req.Number)
	if err != nil {
		return err
	}
	ok, why, err := o.mayRevert(ctx, req.PR, info, cfg, files, req.Actor)
	if err != nil {
		return err
	}
	if !ok {
		return refuse(why)
	}
	n, err := o.openRevert(ctx, req.PR, info, files)
	var cannot *revertRefusal
	if errors.As(err, &cannot) {
		return refuse(cannot.reason)
	}
	if err != nil {
		return err
	}
	return o.Reply(ctx, req.PR, comments.RevertReply(req.Number, n))
}

// revertRefusal is GitHub refusing the revert, with the reason shown.
type revertRefusal struct{ reason comments.Reason }

func (e *revertRefusal) Error() string { return e.reason.Text() }

// openRevert asks GitHub to revert a merged pull request. When it cannot,
// the files that keep it from applying are named: those the pull request
// changed that changed again since it merged (none: it was reverted
// already, the inverse is empty).
func (o *Ops) openRevert(ctx context.Context, pr PR, info *gh.PullRequest, files []string) (int, error) {
	n, _, err := pr.Client.RevertPull(ctx, info.NodeID, "", "")
	if err == nil {
		zerolog.Ctx(ctx).Info().Int("revert_pr", n).Msg("revert pull request opened")
		return n, nil
	}
	if !errors.Is(err, gh.ErrCannotRevert) {
		return 0, err
	}
	conflicts, err := o.revertConflicts(ctx, pr, info, files)
	if err != nil {
		return 0, err
	}
	return 0, &revertRefusal{reason: comments.ReasonRevertConflict(conflicts)}
}

// revertConflicts reads each file the pull request changed before the
// merge, at the merge and now on the default branch, and names those in
// the way of its inverse (see inverseConflicts).
func (o *Ops) revertConflicts(ctx context.Context, pr PR, info *gh.PullRequest, files []string) ([]string, error) {
	merge, err := pr.Client.Commit(ctx, pr.Repo, info.MergedSHA)
	if err != nil {
		return nil, err
	}
	if len(merge.Parents) == 0 {
		return nil, nil
	}
	repo, err := pr.Client.Repository(ctx, pr.Repo)
	if err != nil {
		return nil, err
	}
	head, err := pr.Client.BranchHead(ctx, pr.Repo, repo.DefaultBranch)
	if err != nil {
		return nil, err
	}
	read := func(ref, p string) (*string, error) {
		data, found, err := pr.Client.File(ctx, pr.Repo, ref, p)
		if err != nil || !found {
			return nil, err
		}
		s := string(data)
		return &s, nil
	}
	var states []fileVersions
	for _, f := range files {
		v := fileVersions{Path: f}
		if v.Before, err = read(merge.Parents[0], f); err != nil {
			return nil, err
		}
		if v.After, err = read(info.MergedSHA, f); err != nil {
			return nil, err
		}
		if v.Now, err = read(head, f); err != nil {
			return nil, err
		}
		states = append(states, v)
	}
	return inverseConflicts(states), nil
}

// fileVersions is one file before a merge, at it and now (nil: absent).
type fileVersions struct {
	Path               string
	Before, After, Now *string
}

// inverseConflicts is the three-way view of a revert: a file the merge
// changed can be put back when it is still as the merge left it (or is
// back as it was); one changed again since is in the way. It returns
// those in the way — none when every file is back as before the merge,
// i.e. the inverse is empty (reverted already).
func inverseConflicts(files []fileVersions) []string {
	var conflicts []string
	for _, f := range files {
		if !sameText(f.Now, f.After) && !sameText(f.Now, f.Before) {
			conflicts = append(conflicts, f.Path)
		}
	}
	return conflicts
}

func sameText(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// changedEnvs lists the environments whose path (or chart or values
// files) holds a changed file.
func changedEnvs(cfg *config.RepoConfig, files []string) []config.Environment {
	var out []config.Environment
	for _, env := range cfg.Environments {
		for _, src := range env.Sources() {
			if touches(files, src) {
				out = append(out, env)
				break
			}
		}
	}
	return out
}

// mayRevert: whoever may apply an environment the pull request changed;
// a pull request that changed no environment's files, anyone with write
// access.
func (o *Ops) mayRevert(ctx context.Context, pr PR, info *gh.PullRequest, cfg *config.RepoConfig, files []string, user string) (bool, comments.Reason, error) {
	checks := newRequirementChecks(o, pr, info)
	envs := changedEnvs(cfg, files)
	if len(envs) == 0 {
		p, err := checks.permission(ctx, user)
		if err != nil {
			return false, comments.Reason{}, err
		}
		return canWrite(p), comments.ReasonNotAllowed(nil), nil
	}
	var why comments.Reason
	for _, env := range envs {
		ok, r, err := o.mayApply(ctx, checks, env, user)
		if err != nil || ok {
			return ok, r, err
		}
		why = r
	}
	return false, why, nil
}

// rollbackNow is break glass: ENV's previous successful deploy is applied
// at once through the one write path, then ENV is pinned there and the
// revert of the deploy it replaced is opened.
func (o *Ops) rollbackNow(ctx context.Context, req RollbackRequest) error {
	ctx = zerolog.Ctx(ctx).With().Str("env", req.Env).Logger().WithContext(ctx)
	refuse := func(r comments.Reason) error {
		zerolog.Ctx(ctx).Info().Str("reason", r.Text()).Msg("break-glass rollback refused")
		return o.Reply(ctx, req.PR, comments.RollbackRefusedReply(req.Actor, r))
	}
	cfg, why, err := o.trustedConfig(ctx, req.PR)
	if err != nil {
		return err
	}
	if cfg == nil {
		return refuse(why)
	}
	env, ok := cfg.Env(req.Env)
	if !ok {
		return refuse(comments.ReasonUnknownEnv(envNames(cfg)))
	}
	ok, why, err = o.mayBreakGlass(ctx, req.PR, env, req.Actor)
	if err != nil {
		return err
	}
	if !ok {
		return refuse(why)
	}
	rec, err := o.state.Record(ctx, env, req.Repo.FullName())
	if err != nil {
		return err
	}
	prev, found := previousDeploy(rec)
	if !found {
		return refuse(comments.ReasonNoPrevious(env.Name))
	}
	out, revert, revertWhy, err := o.breakGlass(ctx, breakGlassTarget{
		Client: req.Client, Repo: req.Repo, PR: req.Number, Actor: req.Actor, Env: env, Commit: prev.Commit, Revert: rec.PR,
	})
	if err != nil {
		return err
	}
	if out.Refused != nil {
		return refuse(refusalReason(env.Name, out.Refused))
	}
	return o.Reply(ctx, req.PR, comments.RollbackNowReply(env.Name, prev.Commit, out.Converged, revert, revertWhy))
}

// previousDeploy is the deploy a break-glass rollback goes back to: the
// newest converged deploy in the history at another commit than the one
// recorded now.
func previousDeploy(rec kube.Record) (kube.Deploy, bool) {
	for i, d := range rec.History {
		if i == 0 && d.Commit == rec.Commit {
			continue // the deploy being rolled back
		}
		if d.Outcome == kube.OutcomeConverged && d.Commit != rec.Commit {
			return d, true
		}
	}
	return kube.Deploy{}, false
}

// mayBreakGlass: repository admins, and the environment's break_glass.
func (o *Ops) mayBreakGlass(ctx context.Context, pr PR, env config.Environment, user string) (bool, comments.Reason, error) {
	checks := newRequirementChecks(o, pr, nil)
	p, err := checks.permission(ctx, user)
	if err != nil {
		return false, comments.Reason{}, err
	}
	if p == "admin" {
		return true, comments.Reason{}, nil
	}
	var names []string
	for _, a := range env.BreakGlass {
		names = append(names, a.String())
		if a.IsLogin(user) {
			return true, comments.Reason{}, nil
		}
		if a.IsTeam() {
			member, err := pr.Client.TeamMember(ctx, a.Org, a.Team, user)
			if err != nil {
				return false, comments.Reason{}, err
			}
			if member {
				return true, comments.Reason{}, nil
			}
		}
	}
	return false, comments.ReasonNoBreakGlass(env.Name, names), nil
}

// breakGlassTarget is one break-glass rollback: Env back to Commit.
type breakGlassTarget struct {
	Client *gh.Client
	Repo   gh.Repo
	// PR is where the result comment goes (0: none).
	PR    int
	Actor string
	Env   config.Environment
	// Commit is applied; Revert is the pull request whose deploy it undoes
	// (0: none), reverted on GitHub when it merged.
	Commit string
	Revert int
}

// breakGlass applies t.Commit to t.Env under its apply mutex through the
// one write path (writeHeld, which lets only a rollback through a pin),
// opens the revert pull request, and pins the environment — all before
// the mutex is released, so no other write comes in between.
func (o *Ops) breakGlass(ctx context.Context, t breakGlassTarget) (writeOutcome, int, *comments.Reason, error) {
	log := zerolog.Ctx(ctx)
	held, release, err := o.state.AcquireMutex(ctx, t.Env, t.Repo.FullName())
	if err != nil {
		return writeOutcome{Refused: err}, 0, nil, nil
	}
	defer release()
	start := time.Now()
	tree, err := t.Client.Tarball(held, t.Repo, t.Commit)
	if err != nil {
		return writeOutcome{}, 0, nil, err
	}
	in := planner.Input{Repo: planner.NewMemFS(tree.Files), RepoName: t.Repo.FullName(), Env: t.Env, Commit: t.Commit}
	planned, err := o.applier.Plan(held, in)
	if err != nil {
		return writeOutcome{Refused: err}, 0, nil, nil
	}
	if len(planned.Plan.Problems) > 0 {
		return writeOutcome{Refused: &applier.ProblemsError{Problems: planned.Plan.Problems}}, 0, nil, nil
	}
	wt := writeTarget{Client: t.Client, Repo: t.Repo, PR: t.PR, Actor: t.Actor, Trigger: comments.TriggerRollback, Head: t.Commit}
	out := o.writeHeld(held, wt, t.Env, planned.Plan.Digest, in, planned, start)
	if out.Refused != nil {
		return out, 0, nil, nil
	}
	var revert int
	var revertWhy *comments.Reason
	if t.Revert > 0 {
		revert, revertWhy = o.revertForPin(held, PR{Client: t.Client, Repo: t.Repo, Number: t.Revert})
	}
	pin := kube.Pin{Commit: t.Commit, By: t.Actor, Time: time.Now(), RevertPR: revert, Reason: "break-glass rollback"}
	if err := o.state.SetPin(context.WithoutCancel(held), t.Env, t.Repo.FullName(), pin); err != nil {
		log.Error().Err(err).Msg("could not pin the environment after the rollback")
		return out, revert, revertWhy, err
	}
	log.Info().Str("commit", comments.ShortSHA(t.Commit)).Int("revert_pr", revert).Msg("rolled back and pinned")
	return out, revert, revertWhy, nil
}

// revertForPin opens the revert of the pull request a rollback undid, if
// it merged; the reason says why there is none.
func (o *Ops) revertForPin(ctx context.Context, pr PR) (int, *comments.Reason) {
	info, err := pr.Client.PullRequest(ctx, pr.Repo, pr.Number, o.opts.Mergeable)
	if err != nil {
		r := comments.ReasonOther("could not read #" + strconv.Itoa(pr.Number) + ": " + err.Error())
		return 0, &r
	}
	if !info.Merged {
		r := comments.ReasonOther("#" + strconv.Itoa(pr.Number) + " was applied before merge and is not merged; close it to bring the environment back to the default branch")
		return 0, &r
	}
	files, err := pr.Client.PullFiles(ctx, pr.Repo, pr.Number)
	if err != nil {
		r := comments.ReasonOther(err.Error())
		return 0, &r
	}
	n, err := o.openRevert(ctx, pr, info, files)
	var cannot *revertRefusal
	if errors.As(err, &cannot) {
		return 0, &cannot.reason
	}
	if err != nil {
		r := comments.ReasonOther("could not open the revert: " + err.Error())
		return 0, &r
	}
	return n, nil
}
