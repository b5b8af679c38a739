package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/ops"
)

// IssueComment carries out commands written as pull request comments.
type IssueComment struct{ *Base }

// Handles implements githubapp.EventHandler.
func (h IssueComment) Handles() []string { return []string{"issue_comment"} }

// Handle implements githubapp.EventHandler.
func (h IssueComment) Handle(ctx context.Context, _, _ string, payload []byte) error {
	var ev github.IssueCommentEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return fmt.Errorf("decode issue_comment event: %w", err)
	}
	full := ev.GetRepo().GetFullName()
	author := ev.GetComment().GetUser().GetLogin()
	if ev.GetAction() != "created" || !ev.GetIssue().IsPullRequest() || author == h.BotLogin || !h.allowed(ctx, full) {
		return nil
	}
	cmd, perr := comments.Parse(ev.GetComment().GetBody(), h.AppSlug)
	if errors.Is(perr, comments.ErrNotCommand) {
		return nil
	}
	ctx, pr, err := h.pr(ctx, ev.GetInstallation().GetID(), full, ev.GetIssue().GetNumber())
	if err != nil {
		return err
	}
	ctx = zerolog.Ctx(ctx).With().Str("user", author).Logger().WithContext(ctx)
	log := zerolog.Ctx(ctx)
	var usage *comments.UsageError
	if errors.As(perr, &usage) {
		return h.Ops.Reply(ctx, pr, usage.Error())
	}
	if perr != nil {
		return perr
	}
	log.Info().Str("command", cmd.String()).Msg("command")
	if err := pr.Client.React(ctx, pr.Repo, ev.GetComment().GetID(), "eyes"); err != nil {
		log.Warn().Err(err).Msg("could not react to the command")
	}
	switch cmd.Verb {
	case comments.VerbHelp:
		return h.Ops.Reply(ctx, pr, comments.HelpText(h.AppSlug))
	case comments.VerbApply:
		return h.Ops.ApplyPR(ctx, ops.ApplyRequest{PR: pr, Actor: author, Envs: cmd.Envs,
			AllowDangerous: cmd.AllowDangerous, Trigger: comments.TriggerComment, Detach: detacher(ctx)})
	case comments.VerbUnlock:
		return h.Ops.Unlock(ctx, ops.UnlockRequest{PR: pr, Actor: author, Envs: cmd.Envs})
	case comments.VerbPlan:
		if !h.AllowForkPlans {
			ok, err := pr.Client.CanWrite(ctx, pr.Repo, author)
			if err != nil {
				return err
			}
			if !ok {
				log.Info().Msg("/plan from someone without write access: refused")
				return h.Ops.Reply(ctx, pr, comments.ForkReply(false))
			}
		}
		return h.Ops.PlanPR(ctx, ops.PlanRequest{PR: pr, Envs: cmd.Envs})
	}
	return nil
}
