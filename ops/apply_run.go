package ops

import (
	"context"
	"errors"
	"fmt"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/tugboatops/tugboat/applier"
	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/planner"
)

// run applies the attempt's environments one after the other, in `after`
// order; an environment whose `after` environment failed in this attempt
// is not applied.
func (a *applyAttempt) run(ctx context.Context) {
	failed := map[string]bool{}
	for _, e := range a.envs {
		ectx := zerolog.Ctx(ctx).With().Str("env", e.env.Name).Logger().WithContext(ctx)
		if dep := firstFailed(e.env.After, failed); dep != "" {
			failed[e.env.Name] = true
			a.unlockIfTaken(ectx, e)
			a.reply(ectx, comments.ApplyRefusedReply(a.req.Actor, []comments.Refusal{{Env: e.env.Name, Reasons: []comments.Reason{comments.ReasonAfterFailed(dep)}}}))
			continue
		}
		if !a.applyEnv(ectx, e) {
			failed[e.env.Name] = true
		}
	}
	if a.cfg.Automerge && len(failed) == 0 {
		a.o.automerge(ctx, a.req.PR, a.cfg)
	}
}

func firstFailed(after []string, failed map[string]bool) string {
	for _, dep := range after {
		if failed[dep] {
			return dep
		}
	}
	return ""
}

func (a *applyAttempt) reply(ctx context.Context, body string) {
	if err := a.o.Reply(ctx, a.req.PR, body); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("could not post the reply")
	}
}

// applyEnv writes one environment and reports whether it converged. A
// refusal gives back the lock this attempt took; when the plan changed, the
// new plan is posted before the reply.
func (a *applyAttempt) applyEnv(ctx context.Context, e *envApply) bool {
	t := writeTarget{
		Client: a.req.Client, Repo: a.req.Repo, PR: a.req.Number, Actor: a.req.Actor, Trigger: a.req.Trigger,
		Head: a.pr.HeadSHA, AllowDangerous: a.req.AllowDangerous,
	}
	out := a.o.write(ctx, t, e.env, e.shown, func(ctx context.Context) (planner.Input, error) {
		// The plan shown was of the test merge commit of the head at the
		// time; the re-plan uses the current one, so a moved base shows up
		// as a different digest.
		pr, err := a.req.Client.PullRequest(ctx, a.req.Repo, a.req.Number, a.o.opts.Mergeable)
		if err != nil {
			return planner.Input{}, err
		}
		if pr.HeadSHA != a.pr.HeadSHA {
			return planner.Input{}, fmt.Errorf("the pull request's head moved to %s: %w", comments.ShortSHA(pr.HeadSHA), applier.ErrPlanChanged)
		}
		if pr.MergeCommitSHA == "" {
			return planner.Input{}, fmt.Errorf("pull request #%d has no test merge commit (conflicts?)", a.req.Number)
		}
		trees, err := a.o.fetchTrees(ctx, a.req.PR, pr.MergeCommitSHA)
		if err != nil {
			return planner.Input{}, err
		}
		return planner.Input{
			Repo: planner.NewMemFS(trees.merge.Files), BaseRepo: planner.NewMemFS(trees.base.Files), RepoName: a.req.Repo.FullName(),
			Env: e.env, Commit: pr.MergeCommitSHA, BaseSHA: trees.baseSHA,
		}, nil
	})
	if out.Refused == nil {
		return out.Converged
	}
	ctx = context.WithoutCancel(ctx)
	a.unlockIfTaken(ctx, e)
	if errors.Is(out.Refused, applier.ErrPlanChanged) {
		zerolog.Ctx(ctx).Info().Str("shown", e.shown).Msg("the plan changed since it was shown: not applied")
		if err := a.o.PlanPR(ctx, PlanRequest{PR: a.req.PR, Envs: []string{e.env.Name}}); err != nil {
			zerolog.Ctx(ctx).Error().Err(err).Msg("could not post the new plan")
		}
	}
	a.reply(ctx, comments.ApplyRefusedReply(a.req.Actor, []comments.Refusal{{Env: e.env.Name, Reasons: []comments.Reason{refusalReason(e.env.Name, out.Refused)}}}))
	return false
}

// prTrees are the two trees a plan of a pull request is made of.
type prTrees struct {
	baseSHA     string
	base, merge *gh.Tree
}

// fetchTrees downloads the test merge commit and its first parent, the
// base branch head it was made from. The merge commit's download does not
// wait for the lookup of its parent: each round trip to GitHub is on the
// way from /apply to the apply.
func (o *Ops) fetchTrees(ctx context.Context, pr PR, mergeSHA string) (*prTrees, error) {
	t := &prTrees{}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { t.merge, err = pr.Client.Tarball(gctx, pr.Repo, mergeSHA); return })
	g.Go(func() (err error) {
		if t.baseSHA, err = pr.Client.FirstParent(gctx, pr.Repo, mergeSHA); err != nil {
			return err
		}
		t.base, err = pr.Client.Tarball(gctx, pr.Repo, t.baseSHA)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return t, nil
}
