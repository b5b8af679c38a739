package ops

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/comments"
)

// UnpinRequest is `/unpin ENV...`.
type UnpinRequest struct {
	PR
	Actor string
	Envs  []string
}

// Unpin lets writes to pinned environments go on again, for whoever may
// apply them.
func (o *Ops) Unpin(ctx context.Context, req UnpinRequest) error {
	cfg, why, err := o.trustedConfig(ctx, req.PR)
	if err != nil {
		return err
	}
	if cfg == nil {
		return o.Reply(ctx, req.PR, comments.RollbackRefusedReply(req.Actor, why))
	}
	var refusals []comments.Refusal
	checks := newRequirementChecks(o, req.PR, nil)
	for _, name := range req.Envs {
		env, ok := cfg.Env(name)
		if !ok {
			refusals = append(refusals, comments.Refusal{Env: name, Reasons: []comments.Reason{comments.ReasonUnknownEnv(envNames(cfg))}})
			continue
		}
		ok, why, err := o.mayApply(ctx, checks, env, req.Actor)
		if err != nil {
			return err
		}
		if !ok {
			refusals = append(refusals, comments.Refusal{Env: name, Reasons: []comments.Reason{why}})
		}
	}
	if len(refusals) > 0 {
		return o.Reply(ctx, req.PR, comments.UnpinRefusedReply(req.Actor, refusals))
	}
	was := make([]bool, len(req.Envs))
	for i, name := range req.Envs {
		env, _ := cfg.Env(name)
		pin, err := o.state.Pin(ctx, env, req.Repo.FullName())
		if err != nil {
			return err
		}
		if pin == nil {
			continue
		}
		if err := o.state.Unpin(ctx, env, req.Repo.FullName()); err != nil {
			return err
		}
		was[i] = true
		zerolog.Ctx(ctx).Info().Str("env", name).Str("pinned_at", comments.ShortSHA(pin.Commit)).Msg("unpinned")
	}
	return o.Reply(ctx, req.PR, comments.UnpinReply(req.Envs, was))
}
