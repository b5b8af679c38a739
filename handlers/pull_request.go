package handlers

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/ops"
)

// PullRequest plans a pull request when it opens or its code or base
// changes, and tidies up when it closes.
type PullRequest struct{ *Base }

// Handles implements githubapp.EventHandler.
func (h PullRequest) Handles() []string { return []string{"pull_request"} }

// Handle implements githubapp.EventHandler.
func (h PullRequest) Handle(ctx context.Context, _, _ string, payload []byte) error {
	var ev github.PullRequestEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return fmt.Errorf("decode pull_request event: %w", err)
	}
	full := ev.GetRepo().GetFullName()
	if !h.allowed(ctx, full) {
		return nil
	}
	action := ev.GetAction()
	switch action {
	case "opened", "synchronize", "reopened", "ready_for_review", "closed":
	case "edited":
		if ev.GetChanges().GetBase() == nil {
			return nil // a title or body edit changes nothing planned
		}
	default:
		return nil
	}
	ctx, pr, err := h.pr(ctx, ev.GetInstallation().GetID(), full, ev.GetNumber())
	if err != nil {
		return err
	}
	ctx = zerolog.Ctx(ctx).With().Str("action", action).Logger().WithContext(ctx)
	if action == "closed" {
		return h.Ops.Closed(ctx, ops.CloseRequest{PR: pr, Head: ev.GetPullRequest().GetHead().GetSHA(),
			Merged: ev.GetPullRequest().GetMerged(), Actor: ev.GetSender().GetLogin()})
	}
	// A PR whose head repository is gone (a deleted fork: head.repo is
	// null) is a fork too: failing open here would plan untrusted content.
	head := ev.GetPullRequest().GetHead().GetRepo().GetFullName()
	if head != full && !h.AllowForkPlans {
		zerolog.Ctx(ctx).Info().Str("head_repo", head).Msg("pull request from a fork: not planned until a maintainer runs /plan")
		return h.Ops.NoteOnce(ctx, pr, "fork", comments.ForkReply(true))
	}
	// A new head (opened, synchronize, reopened, ready_for_review) is
	// planned unless this App completed runs on it already: another
	// replica, or an earlier delivery, did. A base change always plans,
	// since the test merge changed under the same head.
	return h.Ops.PlanPR(ctx, ops.PlanRequest{PR: pr, IfNotPlanned: action != "edited"})
}
