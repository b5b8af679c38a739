package gh

import (
	"context"

	"github.com/google/go-github/v60/github"
)

// Issue is a GitHub issue.
type Issue struct {
	Number int
	// PullRequest is set when the number is a pull request's (GitHub's
	// issue API serves both).
	PullRequest bool
	State       string // open or closed
	Title       string
	Body        string
	Author      string
	Labels      []string
	HTMLURL     string
}

func convertIssue(is *github.Issue) Issue {
	out := Issue{Number: is.GetNumber(), State: is.GetState(), Title: is.GetTitle(), Body: is.GetBody(),
		Author: is.GetUser().GetLogin(), HTMLURL: is.GetHTMLURL(), PullRequest: is.IsPullRequest()}
	for _, l := range is.Labels {
		out.Labels = append(out.Labels, l.GetName())
	}
	return out
}

// IssueEdit is what EditIssue changes; nil fields are left as they are.
type IssueEdit struct {
	Title *string
	Body  *string
	State *string // "open" or "closed"
}

// CreateIssue opens an issue with labels (GitHub creates a label that does
// not exist yet).
func (c *Client) CreateIssue(ctx context.Context, repo Repo, title, body string, labels []string) (Issue, error) {
	req := &github.IssueRequest{Title: github.String(title), Body: github.String(body)}
	if len(labels) > 0 {
		req.Labels = &labels
	}
	is, _, err := c.v3.Issues.Create(ctx, repo.Owner, repo.Name, req)
	if err != nil {
		return Issue{}, wrap(err, "open an issue in %s", repo)
	}
	return convertIssue(is), nil
}

// EditIssue changes an issue's title, body or state (closing, reopening).
func (c *Client) EditIssue(ctx context.Context, repo Repo, number int, e IssueEdit) (Issue, error) {
	is, _, err := c.v3.Issues.Edit(ctx, repo.Owner, repo.Name, number, &github.IssueRequest{Title: e.Title, Body: e.Body, State: e.State})
	if err != nil {
		return Issue{}, wrap(err, "edit issue %s#%d", repo, number)
	}
	return convertIssue(is), nil
}

// GetIssue reads one issue (or pull request: see Issue.PullRequest).
func (c *Client) GetIssue(ctx context.Context, repo Repo, number int) (Issue, error) {
	is, _, err := c.v3.Issues.Get(ctx, repo.Owner, repo.Name, number)
	if err != nil {
		return Issue{}, wrap(err, "read issue %s#%d", repo, number)
	}
	return convertIssue(is), nil
}

// IssuesByLabel lists the issues carrying label, open and closed, newest
// first, every page. Pull requests are left out.
func (c *Client) IssuesByLabel(ctx context.Context, repo Repo, label string) ([]Issue, error) {
	opts := &github.IssueListByRepoOptions{State: "all", Labels: []string{label}, ListOptions: github.ListOptions{PerPage: 100}}
	var out []Issue
	for {
		page, resp, err := c.v3.Issues.ListByRepo(ctx, repo.Owner, repo.Name, opts)
		if err != nil {
			return nil, wrap(err, "list issues labelled %s in %s", label, repo)
		}
		for _, is := range page {
			if !is.IsPullRequest() {
				out = append(out, convertIssue(is))
			}
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}
