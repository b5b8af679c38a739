package ops

import (
	"context"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/planner"
)

// deployHeldBack carries out `/apply env` on a merged pull request: the one
// case where a merged PR's /apply is accepted. Its merge did not deploy env
// because a requirement was unmet (say, the approval came late); someone
// allowed to apply asks again, the requirements are checked again on the
// PR's final head, and the default branch head is deployed through the
// same path as a merge deploy.
func (o *Ops) deployHeldBack(ctx context.Context, req ApplyRequest, pr *gh.PullRequest) error {
	cfg, why, err := o.trustedConfig(ctx, req.PR)
	if err != nil {
		return err
	}
	if cfg == nil {
		return o.Reply(ctx, req.PR, comments.ApplyRefusedReply(req.Actor, []comments.Refusal{{Reasons: []comments.Reason{why}}}))
	}
	info, err := req.Client.Repository(ctx, req.Repo)
	if err != nil {
		return err
	}
	head, err := req.Client.BranchHead(ctx, req.Repo, info.DefaultBranch)
	if err != nil {
		return err
	}
	checks := newRequirementChecks(o, req.PR, pr)
	var refusals []comments.Refusal
	var envs []config.Environment
	for _, name := range req.Envs {
		env, ok := cfg.Env(name)
		if !ok {
			refusals = append(refusals, comments.Refusal{Env: name, Reasons: []comments.Reason{comments.ReasonUnknownEnv(envNames(cfg))}})
			continue
		}
		allowed, why, err := o.mayApply(ctx, checks, env, req.Actor)
		if err != nil {
			return err
		}
		if !allowed {
			refusals = append(refusals, comments.Refusal{Env: name, Reasons: []comments.Reason{why}})
			continue
		}
		envs = append(envs, env)
	}
	if len(refusals) > 0 {
		return o.Reply(ctx, req.PR, comments.ApplyRefusedReply(req.Actor, refusals))
	}
	tree, err := req.Client.Tarball(ctx, req.Repo, head)
	if err != nil {
		return err
	}
	d := &deployRun{o: o, cfg: cfg, pr: pr, checks: checks, fsys: planner.NewMemFS(tree.Files), actor: req.Actor,
		req: PushRequest{Client: req.Client, Repo: req.Repo, Branch: info.DefaultBranch, SHA: head, Pusher: req.Actor}}
	o.runDetached(ctx, req.Detach, func(ctx context.Context) {
		failed := map[string]bool{}
		var held []comments.Refusal
		for _, env := range config.Ordered(envs) {
			if reasons := d.deployEnv(ctx, env, failed); len(reasons) > 0 {
				held = append(held, comments.Refusal{Env: env.Name, Reasons: reasons})
			}
		}
		if len(held) > 0 {
			o.replyOrLog(ctx, req.PR, comments.ApplyRefusedReply(req.Actor, held))
		}
	})
	return nil
}
