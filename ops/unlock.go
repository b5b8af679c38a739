package ops

import (
	"context"
	"slices"

	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
)

// UnlockRequest is `/unlock [env...]`.
type UnlockRequest struct {
	PR
	Actor string
	// Envs are the environments named; nil means every environment this
	// pull request holds.
	Envs []string
}

// Unlock releases environments' locks, for anyone allowed to apply the
// environment: with names, whoever holds them (the way out when the
// holding pull request is abandoned); without, those this pull request
// holds.
func (o *Ops) Unlock(ctx context.Context, req UnlockRequest) error {
	cfg, why, err := o.trustedConfig(ctx, req.PR)
	if err != nil {
		return err
	}
	if cfg == nil {
		return o.Reply(ctx, req.PR, comments.UnlockRefusedReply(req.Actor, []comments.Refusal{{Reasons: []comments.Reason{why}}}))
	}
	var refusals []comments.Refusal
	for _, name := range req.Envs {
		if _, ok := cfg.Env(name); !ok {
			refusals = append(refusals, comments.Refusal{Env: name, Reasons: []comments.Reason{comments.ReasonUnknownEnv(envNames(cfg))}})
		}
	}
	if len(refusals) > 0 {
		return o.Reply(ctx, req.PR, comments.UnlockRefusedReply(req.Actor, refusals))
	}
	own := lockHolder(req.Repo, req.Number)
	checks := newRequirementChecks(o, req.PR, nil)
	var results []comments.UnlockResult
	for _, env := range cfg.Environments {
		named := slices.Contains(req.Envs, env.Name)
		if req.Envs != nil && !named {
			continue
		}
		lock, err := o.state.ReadLock(ctx, env, req.Repo.FullName())
		if err != nil {
			return err
		}
		if lock == nil || (!named && lock.Holder != own) {
			if named {
				results = append(results, comments.UnlockResult{Env: env.Name})
			}
			continue
		}
		ok, why, err := o.mayApply(ctx, checks, env, req.Actor)
		if err != nil {
			return err
		}
		if !ok {
			refusals = append(refusals, comments.Refusal{Env: env.Name, Reasons: []comments.Reason{why}})
			continue
		}
		if err := o.state.ReleaseLock(ctx, env, req.Repo.FullName(), lock.Holder); err != nil {
			return err
		}
		zerolog.Ctx(ctx).Info().Str("env", env.Name).Str("holder", lock.Holder).Msg("unlocked")
		results = append(results, comments.UnlockResult{Env: env.Name, Held: true, Holder: holderPR(lock.Holder)})
	}
	if len(refusals) > 0 {
		return o.Reply(ctx, req.PR, comments.UnlockRefusedReply(req.Actor, refusals))
	}
	return o.Reply(ctx, req.PR, comments.UnlockReply(req.Number, results))
}

func envNames(cfg *config.RepoConfig) []string {
	out := make([]string, len(cfg.Environments))
	for i, e := range cfg.Environments {
		out[i] = e.Name
	}
	return out
}
