package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/ops"
)

// CheckRun answers the buttons of tugboat's check runs: "Re-run" and the
// Re-plan action plan the environment again; Apply applies the plan the run
// shows, with whoever pressed it as the actor.
type CheckRun struct{ *Base }

// Handles implements githubapp.EventHandler.
func (h CheckRun) Handles() []string { return []string{"check_run"} }

// Handle implements githubapp.EventHandler.
func (h CheckRun) Handle(ctx context.Context, _, _ string, payload []byte) error {
	var ev github.CheckRunEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return fmt.Errorf("decode check_run event: %w", err)
	}
	full := ev.GetRepo().GetFullName()
	run := ev.GetCheckRun()
	name := run.GetName()
	if name != ops.CheckEarlyFailure && !strings.HasPrefix(name, ops.CheckPrefix) || !h.allowed(ctx, full) {
		return nil
	}
	var identifier string
	if ra := ev.GetRequestedAction(); ra != nil {
		identifier = ra.Identifier
	}
	switch {
	case ev.GetAction() == "rerequested":
	case ev.GetAction() == "requested_action" && (identifier == ops.ActionReplan || identifier == ops.ActionApply):
	case ev.GetAction() == "requested_action" && strings.HasPrefix(identifier, ops.ActionPromotePrefix):
		return h.promote(ctx, ev, strings.TrimPrefix(identifier, ops.ActionPromotePrefix))
	default:
		return nil
	}
	number, err := h.pullRequestOf(ctx, ev)
	if err != nil || number == 0 {
		return err
	}
	ctx, pr, err := h.pr(ctx, ev.GetInstallation().GetID(), full, number)
	if err != nil {
		return err
	}
	ctx = zerolog.Ctx(ctx).With().Str("check_run", name).Str("user", ev.GetSender().GetLogin()).Logger().WithContext(ctx)
	var envs []string
	if env, ok := strings.CutPrefix(name, ops.CheckPrefix); ok && name != ops.CheckConfig {
		envs = []string{env}
	}
	if identifier == ops.ActionApply {
		if len(envs) == 0 {
			return nil // only environments' runs carry the button
		}
		return h.Ops.ApplyPR(ctx, ops.ApplyRequest{PR: pr, Actor: ev.GetSender().GetLogin(), Envs: envs,
			Trigger: comments.TriggerButton, ButtonHead: run.GetHeadSHA(), Detach: detacher(ctx)})
	}
	return h.Ops.PlanPR(ctx, ops.PlanRequest{PR: pr, Envs: envs})
}

// pullRequestOf finds the pull request of a check run. GitHub lists it in
// the payload only for PRs from the same repository; for forks it is looked
// up by the head commit.
func (h CheckRun) pullRequestOf(ctx context.Context, ev github.CheckRunEvent) (int, error) {
	for _, p := range ev.GetCheckRun().PullRequests {
		if p.GetNumber() != 0 {
			return p.GetNumber(), nil
		}
	}
	c, err := h.Clients.Installation(ev.GetInstallation().GetID())
	if err != nil {
		return 0, err
	}
	return c.PullForCommit(ctx, splitRepo(ev.GetRepo().GetFullName()), ev.GetCheckRun().GetHeadSHA())
}

// promote answers a converged deploy's Promote button: the run's
// environment is promoted to the one the button names, by whoever pressed
// it. The reply goes to the pull request the deploy came from, if any.
func (h CheckRun) promote(ctx context.Context, ev github.CheckRunEvent, to string) error {
	from, ok := strings.CutPrefix(ev.GetCheckRun().GetName(), ops.CheckPrefix)
	if !ok || from == "" {
		return nil
	}
	number, err := h.pullRequestOf(ctx, ev)
	if err != nil {
		return err
	}
	ctx, pr, err := h.pr(ctx, ev.GetInstallation().GetID(), ev.GetRepo().GetFullName(), number)
	if err != nil {
		return err
	}
	return h.Ops.Promote(ctx, ops.PromoteRequest{PR: pr, Actor: ev.GetSender().GetLogin(), From: from, To: to})
}
