package ops

import (
	"context"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/planner"
)

// MergeGroupRequest is GitHub's merge queue asking for checks on a group
// (merge_group checks_requested).
type MergeGroupRequest struct {
	Client *gh.Client
	Repo   gh.Repo
	// HeadSHA is the group's commit: the base plus the queued pull requests.
	HeadSHA string
	BaseSHA string
}

// MergeGroup reports a tugboat/<env> check run on a merge group's commit
// for every environment, so a repository that requires tugboat/<env> can
// use GitHub's merge queue (Atlantis #5603): an on-comment environment
// succeeds when the group's plan is empty — what was applied is what the
// group merges —, an on-merge one when the group plans without problems.
// Without these runs the queue would wait for the required checks forever.
func (o *Ops) MergeGroup(ctx context.Context, req MergeGroupRequest) error {
	log := zerolog.Ctx(ctx).With().Str("group", comments.ShortSHA(req.HeadSHA)).Logger()
	ctx = log.WithContext(ctx)
	data, found, err := req.Client.File(ctx, req.Repo, req.BaseSHA, config.RepoFile)
	if err != nil || !found {
		return err
	}
	// The group's base is the default branch: its file is the trusted one.
	cfg, err := o.parseTrusted(ctx, data, req.Repo.FullName(), fromGitHub(req.Client, req.Repo, req.BaseSHA))
	if err != nil {
		log.Warn().Err(err).Msg("the default branch's configuration is invalid: no checks for the merge group")
		return nil
	}
	var head, base *gh.Tree
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { head, err = req.Client.Tarball(gctx, req.Repo, req.HeadSHA); return })
	g.Go(func() (err error) { base, err = req.Client.Tarball(gctx, req.Repo, req.BaseSHA); return })
	if err := g.Wait(); err != nil {
		return err
	}
	headFS, baseFS := planner.NewMemFS(head.Files), planner.NewMemFS(base.Files)
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(o.opts.PlanConcurrency)
	for _, env := range cfg.Environments {
		g.Go(func() error {
			ectx := zerolog.Ctx(gctx).With().Str("env", env.Name).Logger().WithContext(gctx)
			in := planner.Input{Repo: headFS, BaseRepo: baseFS, RepoName: req.Repo.FullName(), Env: env, Commit: req.HeadSHA, BaseSHA: req.BaseSHA}
			plan, err := o.planner.Plan(ectx, in)
			if err != nil {
				zerolog.Ctx(ectx).Error().Err(err).Msg("planning the merge group failed")
			}
			out := comments.MergeGroupCheckRun(env.Name, comments.ApplyMode(env.Apply), plan, err)
			_, cerr := req.Client.CreateCheckRun(ectx, req.Repo, gh.CheckRun{
				Name: checkName(env.Name), HeadSHA: req.HeadSHA, Status: "completed", Conclusion: out.Conclusion,
				Title: out.Title, Summary: out.Summary,
			})
			return cerr
		})
	}
	return g.Wait()
}
