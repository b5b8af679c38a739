package ops

import (
	"context"
	"io/fs"

	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/applier"
	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/planner"
)

// CloseRequest is a pull request that was closed, merged or not.
type CloseRequest struct {
	PR
	Head   string
	Merged bool
	Actor  string
	// AllowDangerous is set by `/apply --allow-dangerous` on a closed pull
	// request: the revert then also makes the dangerous deletes it left.
	AllowDangerous bool
}

// Closed tidies up after a pull request closes: its outdated comments are
// minimized and, when it closed without merging, its locks are released
// and every environment it applied is brought back to the default branch
// head — Git is the source of truth. (A merged PR's locks are released by
// its merge deploy.)
func (o *Ops) Closed(ctx context.Context, req CloseRequest) error {
	if err := o.minimizeOutdated(ctx, req.PR, req.Head); err != nil {
		return err
	}
	if req.Merged {
		return nil
	}
	return o.revert(ctx, req)
}

// revert brings the environments the pull request applied back to the
// default branch head, through the same write path as every apply, and
// says on the PR what was reverted and what could not be.
func (o *Ops) revert(ctx context.Context, req CloseRequest) error {
	cfg, _, err := o.trustedConfig(ctx, req.PR)
	if err != nil {
		return err
	}
	if cfg == nil {
		zerolog.Ctx(ctx).Info().Msg("no usable configuration: nothing to revert")
		return nil
	}
	defer o.releasePRLocks(context.WithoutCancel(ctx), req.PR, cfg)
	var applied []config.Environment
	for _, env := range config.Ordered(cfg.Environments) {
		rec, err := o.state.Record(ctx, env, req.Repo.FullName())
		if err != nil {
			return err
		}
		if rec.PR == req.Number {
			applied = append(applied, env)
		}
	}
	if len(applied) == 0 {
		return nil
	}
	info, err := req.Client.Repository(ctx, req.Repo)
	if err != nil {
		return err
	}
	head, err := req.Client.BranchHead(ctx, req.Repo, info.DefaultBranch)
	if err != nil {
		return err
	}
	tree, err := req.Client.Tarball(ctx, req.Repo, head)
	if err != nil {
		return err
	}
	fsys := planner.NewMemFS(tree.Files)
	var reverts []comments.Revert
	for _, env := range applied {
		ectx := zerolog.Ctx(ctx).With().Str("env", env.Name).Logger().WithContext(ctx)
		reverts = append(reverts, o.revertEnv(ectx, req, env, fsys, head))
	}
	return o.Reply(ctx, req.PR, comments.RevertComment(req.Number, info.DefaultBranch, reverts))
}

// revertEnv re-applies one environment at the default branch head. With
// prune off, objects the pull request created stay: a pruning plan lists
// them so the comment can name them.
func (o *Ops) revertEnv(ctx context.Context, req CloseRequest, env config.Environment, tree fs.FS, head string) comments.Revert {
	rv := comments.Revert{Env: env.Name, Unlocked: true}
	in := planner.Input{Repo: tree, RepoName: req.Repo.FullName(), Env: env, Commit: head}
	if !env.Prune {
		pruning := in
		pruning.Env.Prune = true
		if p, err := o.planner.Plan(ctx, pruning); err == nil {
			for _, ch := range p.Changes {
				if ch.Action == planner.ActionDelete {
					rv.Kept = append(rv.Kept, ch.Ref)
				}
			}
		}
	}
	t := writeTarget{Client: req.Client, Repo: req.Repo, PR: req.Number, Actor: req.Actor, Trigger: comments.TriggerClose,
		Head: head, AllowDangerous: req.AllowDangerous, KeepDangerous: !req.AllowDangerous}
	fail := func(err error) comments.Revert {
		rv.Report = &comments.ApplyReport{Repo: req.Repo.FullName(), RepoURL: o.repoURL(req.Repo), PR: req.Number, Env: env.Name,
			Cluster: env.Cluster, Actor: req.Actor, Trigger: comments.TriggerClose, Commit: head, Head: head, Err: err}
		return rv
	}
	plan, err := o.planner.Plan(ctx, in)
	if err != nil {
		return fail(err)
	}
	if len(plan.Problems) > 0 {
		return fail(&applier.ProblemsError{Problems: plan.Problems})
	}
	if !plan.HasChanges() {
		return rv // already what the default branch renders
	}
	w := o.write(ctx, t, env, plan.Digest, func(context.Context) (planner.Input, error) { return in, nil })
	if w.Refused != nil {
		return fail(w.Refused)
	}
	rv.Report, rv.Dangerous = w.Report, w.Kept
	return rv
}

// minimizeOutdated hides the bot's plan comments of earlier heads.
func (o *Ops) minimizeOutdated(ctx context.Context, pr PR, headSHA string) error {
	existing, err := pr.Client.Comments(ctx, pr.Repo, pr.Number)
	if err != nil {
		return err
	}
	var outdated []gh.Comment
	for _, cm := range existing {
		if cm.Author != o.opts.BotLogin {
			continue
		}
		if m, ok := comments.ParseMarker(cm.Body); ok && m.SHA != headSHA {
			outdated = append(outdated, cm)
		}
	}
	o.minimize(ctx, pr, outdated)
	return nil
}
