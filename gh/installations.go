package gh

import (
	"context"
	"fmt"

	"github.com/google/go-github/v60/github"
)

// InstalledRepo is a repository an installation of the app can reach.
type InstalledRepo struct {
	Repo          Repo
	DefaultBranch string
	Archived      bool
}

// Installations lists the ids of the app's installations, every page (as
// the app): the leader's resync walks them, since no webhook names them.
func (f *Factory) Installations(ctx context.Context) ([]int64, error) {
	app, err := f.Creator.NewAppClient()
	if err != nil {
		return nil, fmt.Errorf("GitHub app client: %w", err)
	}
	opts := &github.ListOptions{PerPage: 100}
	var out []int64
	for {
		page, resp, err := app.Apps.ListInstallations(ctx, opts)
		if err != nil {
			return nil, wrap(err, "list the app's installations")
		}
		for _, in := range page {
			out = append(out, in.GetID())
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// InstalledRepos lists the repositories this installation can reach,
// every page.
func (c *Client) InstalledRepos(ctx context.Context) ([]InstalledRepo, error) {
	opts := &github.ListOptions{PerPage: 100}
	var out []InstalledRepo
	for {
		page, resp, err := c.v3.Apps.ListRepos(ctx, opts)
		if err != nil {
			return nil, wrap(err, "list the installation's repositories")
		}
		for _, r := range page.Repositories {
			out = append(out, InstalledRepo{
				Repo:          Repo{Owner: r.GetOwner().GetLogin(), Name: r.GetName()},
				DefaultBranch: r.GetDefaultBranch(),
				Archived:      r.GetArchived(),
			})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// OpenPullRequests lists the repository's open pull requests, every page,
// oldest first. Their mergeability is not known from a list: read one
// with PullRequest before planning it.
func (c *Client) OpenPullRequests(ctx context.Context, repo Repo) ([]*PullRequest, error) {
	opts := &github.PullRequestListOptions{State: "open", Sort: "created", Direction: "asc", ListOptions: github.ListOptions{PerPage: 100}}
	var out []*PullRequest
	for {
		page, resp, err := c.v3.PullRequests.List(ctx, repo.Owner, repo.Name, opts)
		if err != nil {
			return nil, wrap(err, "list open pull requests of %s", repo)
		}
		for _, pr := range page {
			out = append(out, convertPR(repo, pr))
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}
