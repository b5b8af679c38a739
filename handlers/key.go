package handlers

import (
	"encoding/json"

	"github.com/palantir/go-githubapp/githubapp"

	"github.com/tugboatops/tugboat/ops"
)

// EventKey is the scheduler's serialization key: events of one pull
// request (by repository and number — a review's is in pull_request —, or
// for a check run without a listed PR, by head commit) run in order and one
// at a time; pushes run one at a time per repository.
func EventKey(d githubapp.Dispatch) string {
	var p struct {
		Number     int `json:"number"`
		Repository struct {
			FullName string `json:"full_name"`
		} `json:"repository"`
		Issue struct {
			Number int `json:"number"`
		} `json:"issue"`
		// pull_request_review carries its PR only here.
		PullRequest struct {
			Number int `json:"number"`
		} `json:"pull_request"`
		CheckRun struct {
			HeadSHA      string `json:"head_sha"`
			PullRequests []struct {
				Number int `json:"number"`
			} `json:"pull_requests"`
		} `json:"check_run"`
	}
	if err := json.Unmarshal(d.Payload, &p); err != nil {
		return d.EventType
	}
	repo := p.Repository.FullName
	r := splitRepo(repo)
	// The keys are ops.PRKey and ops.RepoKey: the resync takes the same
	// per-PR lock as the queue.
	switch {
	case p.Number != 0:
		return ops.PRKey(r, p.Number)
	case p.Issue.Number != 0:
		return ops.PRKey(r, p.Issue.Number)
	case p.PullRequest.Number != 0:
		return ops.PRKey(r, p.PullRequest.Number)
	case len(p.CheckRun.PullRequests) > 0:
		return ops.PRKey(r, p.CheckRun.PullRequests[0].Number)
	case p.CheckRun.HeadSHA != "":
		return repo + "@" + p.CheckRun.HeadSHA
	}
	return repo
}
