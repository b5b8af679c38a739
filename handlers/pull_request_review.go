package handlers

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/go-github/v60/github"
)

// PullRequestReview re-evaluates the on-merge environments' `approved`
// gate when a review is submitted or dismissed.
type PullRequestReview struct{ *Base }

// Handles implements githubapp.EventHandler.
func (h PullRequestReview) Handles() []string { return []string{"pull_request_review"} }

// Handle implements githubapp.EventHandler.
func (h PullRequestReview) Handle(ctx context.Context, _, _ string, payload []byte) error {
	var ev github.PullRequestReviewEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return fmt.Errorf("decode pull_request_review event: %w", err)
	}
	full := ev.GetRepo().GetFullName()
	switch ev.GetAction() {
	case "submitted", "dismissed":
	default:
		return nil
	}
	if !h.allowed(ctx, full) {
		return nil
	}
	ctx, pr, err := h.pr(ctx, ev.GetInstallation().GetID(), full, ev.GetPullRequest().GetNumber())
	if err != nil {
		return err
	}
	return h.Ops.ReviewChanged(ctx, pr)
}
