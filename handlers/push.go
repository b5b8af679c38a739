package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/ops"
)

// Push deploys what reaches the default branch: merge commits, squashes,
// merge-queue merges and direct pushes alike.
type Push struct{ *Base }

// Handles implements githubapp.EventHandler.
func (h Push) Handles() []string { return []string{"push"} }

// zeroSHA is the "after" of a push that deleted the branch.
const zeroSHA = "0000000000000000000000000000000000000000"

// Handle implements githubapp.EventHandler.
func (h Push) Handle(ctx context.Context, _, _ string, payload []byte) error {
	var ev github.PushEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return fmt.Errorf("decode push event: %w", err)
	}
	full := ev.GetRepo().GetFullName()
	branch, isBranch := strings.CutPrefix(ev.GetRef(), "refs/heads/")
	if !isBranch || branch != ev.GetRepo().GetDefaultBranch() || ev.GetDeleted() || ev.GetAfter() == zeroSHA || !h.allowed(ctx, full) {
		return nil
	}
	log := zerolog.Ctx(ctx).With().Str("repo", full).Str("push", ev.GetAfter()).Logger()
	ctx = log.WithContext(ctx)
	c, err := h.Clients.Installation(ev.GetInstallation().GetID())
	if err != nil {
		return err
	}
	log.Info().Str("branch", branch).Msg("push to the default branch")
	return h.Ops.DeployPush(ctx, ops.PushRequest{Client: c, Repo: splitRepo(full), Branch: branch, SHA: ev.GetAfter(),
		Pusher: ev.GetSender().GetLogin(), Detach: detacher(ctx)})
}
