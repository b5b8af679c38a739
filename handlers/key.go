package handlers

import (
	"encoding/json"

	"github.com/palantir/go-githubapp/githubapp"

	"github.com/tugboatops/tugboat/ops"
)

// keyFields are the parts of a payload the queue's key is made of: the
// pull request or repository it belongs to, and whether any handler acts
// on it. One decode reads them all: the key is computed while the webhook
// waits for its acknowledgement, and a pull_request payload is 20–30 kB.
type keyFields struct {
	Action string `json:"action"`
	Ref    string `json:"ref"`
	Number int    `json:"number"`
	// Repository is the event's repository; default_branch tells a push
	// to it from a push to any other branch.
	Repository struct {
		FullName      string `json:"full_name"`
		DefaultBranch string `json:"default_branch"`
	} `json:"repository"`
	Issue struct {
		Number int `json:"number"`
	} `json:"issue"`
	Comment struct {
		User struct {
			Login string `json:"login"`
		} `json:"user"`
	} `json:"comment"`
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

// EventKey is the scheduler's serialization key: events of one pull
// request (by repository and number — a review's is in pull_request —, or
// for a check run without a listed PR, by head commit) run in order and one
// at a time; pushes run one at a time per repository.
func EventKey(d githubapp.Dispatch) string {
	var p keyFields
	if err := json.Unmarshal(d.Payload, &p); err != nil {
		return d.EventType
	}
	return p.key()
}

func (p *keyFields) key() string {
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

// EventKey is the queue's key for d (the function EventKey), or "" for an
// event no handler acts on — the bot's own comments, edits and deletions
// of comments, pushes to other branches than the default, check runs
// created or completed — so that it takes no per-PR lock: the bot's own
// comment set would otherwise queue behind the plan that posted it.
func (b *Base) EventKey(d githubapp.Dispatch) string {
	var p keyFields
	if err := json.Unmarshal(d.Payload, &p); err != nil {
		// Not inert (each handler decodes and refuses it itself).
		return d.EventType
	}
	if b.inert(d.EventType, &p) {
		return ""
	}
	return p.key()
}

// inert reports whether no handler acts on an event (each handler checks
// again).
func (b *Base) inert(event string, p *keyFields) bool {
	switch event {
	case "push":
		return p.Repository.DefaultBranch != "" && p.Ref != "refs/heads/"+p.Repository.DefaultBranch
	case "issue_comment":
		return p.Action != "created" || (b.BotLogin != "" && p.Comment.User.Login == b.BotLogin)
	case "check_run":
		return p.Action != "rerequested" && p.Action != "requested_action"
	}
	return false
}
