package gh

import (
	"context"

	"github.com/google/go-github/v60/github"
	"github.com/shurcooL/githubv4"
)

// Comment is an issue or pull request comment.
type Comment struct {
	ID      int64
	NodeID  string
	Author  string
	Body    string
	HTMLURL string
}

func convertComment(c *github.IssueComment) Comment {
	return Comment{ID: c.GetID(), NodeID: c.GetNodeID(), Author: c.GetUser().GetLogin(), Body: c.GetBody(), HTMLURL: c.GetHTMLURL()}
}

// Comments lists every comment of an issue or pull request, oldest first.
func (c *Client) Comments(ctx context.Context, repo Repo, number int) ([]Comment, error) {
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	var out []Comment
	for {
		page, resp, err := c.v3.Issues.ListComments(ctx, repo.Owner, repo.Name, number, opts)
		if err != nil {
			return nil, wrap(err, "list comments of %s#%d", repo, number)
		}
		for _, cm := range page {
			out = append(out, convertComment(cm))
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// CreateComment posts a comment on an issue or pull request.
func (c *Client) CreateComment(ctx context.Context, repo Repo, number int, body string) (Comment, error) {
	cm, _, err := c.v3.Issues.CreateComment(ctx, repo.Owner, repo.Name, number, &github.IssueComment{Body: github.String(body)})
	if err != nil {
		return Comment{}, wrap(err, "comment on %s#%d", repo, number)
	}
	return convertComment(cm), nil
}

// EditComment replaces a comment's body.
func (c *Client) EditComment(ctx context.Context, repo Repo, id int64, body string) (Comment, error) {
	cm, _, err := c.v3.Issues.EditComment(ctx, repo.Owner, repo.Name, id, &github.IssueComment{Body: github.String(body)})
	if err != nil {
		return Comment{}, wrap(err, "edit comment %d on %s", id, repo)
	}
	return convertComment(cm), nil
}

// DeleteComment deletes a comment; one already gone is not an error.
func (c *Client) DeleteComment(ctx context.Context, repo Repo, id int64) error {
	_, err := c.v3.Issues.DeleteComment(ctx, repo.Owner, repo.Name, id)
	if err != nil && !IsNotFound(err) {
		return wrap(err, "delete comment %d on %s", id, repo)
	}
	return nil
}

// MinimizeOutdated hides a comment as OUTDATED (GraphQL minimizeComment;
// the REST API cannot).
func (c *Client) MinimizeOutdated(ctx context.Context, nodeID string) error {
	var m struct {
		MinimizeComment struct {
			MinimizedComment struct {
				IsMinimized bool
			}
		} `graphql:"minimizeComment(input: $input)"`
	}
	input := githubv4.MinimizeCommentInput{
		SubjectID:  githubv4.ID(nodeID),
		Classifier: githubv4.ReportedContentClassifiersOutdated,
	}
	return wrap(c.v4.Mutate(ctx, &m, input, nil), "minimize comment %s", nodeID)
}

// React adds a reaction ("eyes", "+1", ...) to an issue comment.
func (c *Client) React(ctx context.Context, repo Repo, commentID int64, content string) error {
	_, _, err := c.v3.Reactions.CreateIssueCommentReaction(ctx, repo.Owner, repo.Name, commentID, content)
	return wrap(err, "react %s to comment %d on %s", content, commentID, repo)
}
