package handlers

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/ops"
)

// MergeGroup answers GitHub's merge queue: checks_requested gets a
// tugboat/<env> run per environment on the group's commit.
type MergeGroup struct{ *Base }

// Handles implements githubapp.EventHandler.
func (h MergeGroup) Handles() []string { return []string{"merge_group"} }

// Handle implements githubapp.EventHandler.
func (h MergeGroup) Handle(ctx context.Context, _, _ string, payload []byte) error {
	var ev github.MergeGroupEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return fmt.Errorf("decode merge_group event: %w", err)
	}
	full := ev.GetRepo().GetFullName()
	if ev.GetAction() != "checks_requested" || !h.allowed(ctx, full) {
		return nil
	}
	group := ev.GetMergeGroup()
	ctx = zerolog.Ctx(ctx).With().Str("repo", full).Str("merge_group", group.GetHeadRef()).Logger().WithContext(ctx)
	c, err := h.Clients.Installation(ev.GetInstallation().GetID())
	if err != nil {
		return err
	}
	return h.Ops.MergeGroup(ctx, ops.MergeGroupRequest{Client: c, Repo: splitRepo(full), HeadSHA: group.GetHeadSHA(), BaseSHA: group.GetBaseSHA()})
}
