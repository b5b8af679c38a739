package handlers

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"
)

// Installation logs the app being installed, changed or removed; the bot
// keeps no state about installations.
type Installation struct{ *Base }

// Handles implements githubapp.EventHandler.
func (h Installation) Handles() []string { return []string{"installation"} }

// Handle implements githubapp.EventHandler.
func (h Installation) Handle(ctx context.Context, _, _ string, payload []byte) error {
	var ev github.InstallationEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return fmt.Errorf("decode installation event: %w", err)
	}
	repos := make([]string, 0, len(ev.Repositories))
	for _, r := range ev.Repositories {
		repos = append(repos, r.GetFullName())
	}
	zerolog.Ctx(ctx).Info().Str("action", ev.GetAction()).Int64("installation", ev.GetInstallation().GetID()).
		Str("account", ev.GetInstallation().GetAccount().GetLogin()).Strs("repositories", repos).Msg("installation")
	return nil
}
