package ops

import (
	"strings"

	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
)

// ActionPromotePrefix starts the identifier of a converged deploy's
// Promote button: "promote-<to>" (GitHub allows 20 characters).
const ActionPromotePrefix = "promote-"

// maxActions is GitHub's limit of actions on a check run.
const maxActions = 3

// promoteTargets are the environments that declare promote.from: env.
func promoteTargets(cfg *config.RepoConfig, env string) []string {
	var out []string
	for _, e := range cfg.Environments {
		if e.Promote != nil && e.Promote.From == env {
			out = append(out, e.Name)
		}
	}
	return out
}

// finishedActions are the buttons of a concluded apply's check run:
// Re-plan, and once converged a Promote button per environment promoted
// from this one (as many as GitHub allows; a target whose identifier would
// be too long gets none — /promote still works).
func finishedActions(from string, promoteTo []string, converged bool) []gh.Action {
	actions := []gh.Action{replanAction}
	if !converged {
		return actions
	}
	for _, to := range promoteTo {
		id := ActionPromotePrefix + to
		if len(id) > 20 || len(actions) == maxActions {
			continue
		}
		label := "Promote"
		if len(promoteTo) > 1 {
			label = clipTo("Promote to "+to, 20)
		}
		actions = append(actions, gh.Action{Label: label, Description: clipTo("Promote "+from+" to "+to, 40), Identifier: id})
	}
	return actions
}

// clipTo cuts s to n bytes on a rune boundary, marking the cut.
func clipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n-1], "") + "."
}
