package gh

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/go-github/v60/github"
)

// RecentDeployment is one of an environment's newest deployments, as the
// status page shows it.
type RecentDeployment struct {
	ID          int64
	SHA         string
	Description string
	Creator     string
	Created     time.Time
	// Commit and PR are read from the payload's "commit" and
	// "pull_request" keys, where tugboat's deployments carry the commit
	// applied and the pull request (zero values for others').
	Commit string
	PR     int
	// State and LogURL are the latest status's ("" before any).
	State, LogURL string
}

// RecentDeployments lists the newest deployments (at most limit, 100 at
// most) of repo to environment, newest first, each with its latest status:
// one request for the list and one per deployment (GitHub's list does not
// say the state).
func (c *Client) RecentDeployments(ctx context.Context, repo Repo, environment string, limit int) ([]RecentDeployment, error) {
	limit = min(max(limit, 1), 100)
	page, _, err := c.v3.Repositories.ListDeployments(ctx, repo.Owner, repo.Name,
		&github.DeploymentsListOptions{Environment: environment, ListOptions: github.ListOptions{PerPage: limit}})
	if err != nil {
		return nil, wrap(err, "list deployments of %s to %s", repo, environment)
	}
	if len(page) > limit {
		page = page[:limit]
	}
	out := make([]RecentDeployment, 0, len(page))
	for _, d := range page {
		r := RecentDeployment{ID: d.GetID(), SHA: d.GetSHA(), Description: d.GetDescription(),
			Creator: d.GetCreator().GetLogin(), Created: d.GetCreatedAt().Time}
		var p struct {
			Commit string `json:"commit"`
			PR     int    `json:"pull_request"`
		}
		// Another tool's payload may be anything: it just says nothing.
		if json.Unmarshal(d.Payload, &p) == nil {
			r.Commit, r.PR = p.Commit, p.PR
		}
		sts, _, err := c.v3.Repositories.ListDeploymentStatuses(ctx, repo.Owner, repo.Name, r.ID, &github.ListOptions{PerPage: 1})
		if err != nil {
			return nil, wrap(err, "list statuses of deployment %d on %s", r.ID, repo)
		}
		if len(sts) > 0 {
			r.State, r.LogURL = sts[0].GetState(), sts[0].GetLogURL()
		}
		out = append(out, r)
	}
	return out, nil
}
