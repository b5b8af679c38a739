package gh

import (
	"context"
	"time"

	"github.com/google/go-github/v60/github"
)

// Review is a submitted pull request review.
type Review struct {
	ID   int64
	User string
	// State is APPROVED, CHANGES_REQUESTED, COMMENTED or DISMISSED (a
	// dismissed approval or change request).
	State string
	// CommitID is the head the review was given on.
	CommitID    string
	SubmittedAt time.Time
}

// Reviews lists every submitted review of a pull request, in submission
// order (pending drafts, which only their author sees, are left out).
func (c *Client) Reviews(ctx context.Context, repo Repo, number int) ([]Review, error) {
	opts := &github.ListOptions{PerPage: 100}
	var out []Review
	for {
		page, resp, err := c.v3.PullRequests.ListReviews(ctx, repo.Owner, repo.Name, number, opts)
		if err != nil {
			return nil, wrap(err, "list reviews of %s#%d", repo, number)
		}
		for _, rv := range page {
			if rv.GetState() == "PENDING" {
				continue
			}
			out = append(out, Review{
				ID: rv.GetID(), User: rv.GetUser().GetLogin(), State: rv.GetState(),
				CommitID: rv.GetCommitID(), SubmittedAt: rv.GetSubmittedAt().Time,
			})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// CommitTree returns the tree of a commit: two commits with the same tree
// have the same content, whatever their history.
func (c *Client) CommitTree(ctx context.Context, repo Repo, sha string) (string, error) {
	commit, _, err := c.v3.Git.GetCommit(ctx, repo.Owner, repo.Name, sha)
	if err != nil {
		return "", wrap(err, "get commit %s@%.7s", repo, sha)
	}
	return commit.GetTree().GetSHA(), nil
}
