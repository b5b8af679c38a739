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

// IssueComment carries out commands written as pull request comments, and
// the release commands (/promote, /rollback ENV --now, /unpin) written on
// issues too.
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
	if ev.GetAction() != "created" || author == h.BotLogin || !h.allowed(ctx, full) {
		return nil
	}
	cmd, perr := comments.Parse(ev.GetComment().GetBody(), h.AppSlug)
	if errors.Is(perr, comments.ErrNotCommand) {
		return nil
	}
	onIssue := !ev.GetIssue().IsPullRequest()
	if onIssue && perr == nil && !issueCommand(cmd) {
		// /plan, /apply, /unlock and /rollback (revert) are about a pull
		// request; on an issue they stay unanswered, as before.
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
	case comments.VerbPromote:
		return h.Ops.Promote(ctx, ops.PromoteRequest{PR: pr, Actor: author, From: cmd.Envs[0], To: cmd.Envs[1]})
	case comments.VerbRollback:
		req := ops.RollbackRequest{PR: pr, Actor: author, Now: cmd.Now}
		if cmd.Now {
			req.Env = cmd.Envs[0]
		}
		return h.Ops.Rollback(ctx, req)
	case comments.VerbUnpin:
		return h.Ops.Unpin(ctx, ops.UnpinRequest{PR: pr, Actor: author, Envs: cmd.Envs})
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

// issueCommand reports whether a command means something on an issue:
// those about environments rather than a pull request.
func issueCommand(cmd comments.Command) bool {
	switch cmd.Verb {
	case comments.VerbPromote, comments.VerbUnpin, comments.VerbHelp:
		return true
	case comments.VerbRollback:
		return cmd.Now
	}
	return false
}
