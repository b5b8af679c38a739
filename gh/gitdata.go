package gh

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/google/go-github/v60/github"
	"github.com/shurcooL/githubv4"
)

// The bot writes branches (promotion pull requests) without a clone,
// through GitHub's Git Data API: a blob per file, a tree on top of the
// parent's, a commit, then the ref.

// CommitInfo is who made a commit and on what.
type CommitInfo struct {
	SHA     string
	Tree    string
	Parents []string
	// Author is the commit author's name: for a commit the bot made
	// through the API, the bot's login.
	Author  string
	Message string
}

// Commit reads a commit object.
func (c *Client) Commit(ctx context.Context, repo Repo, sha string) (CommitInfo, error) {
	commit, _, err := c.v3.Git.GetCommit(ctx, repo.Owner, repo.Name, sha)
	if err != nil {
		return CommitInfo{}, wrap(err, "get commit %s@%.7s", repo, sha)
	}
	info := CommitInfo{SHA: commit.GetSHA(), Tree: commit.GetTree().GetSHA(), Author: commit.GetAuthor().GetName(), Message: commit.GetMessage()}
	for _, p := range commit.Parents {
		info.Parents = append(info.Parents, p.GetSHA())
	}
	return info, nil
}

// CommitFiles makes a commit on top of parent that writes files (path →
// content; nil content deletes the path) and returns it. No ref moves.
func (c *Client) CommitFiles(ctx context.Context, repo Repo, parent string, files map[string][]byte, message string) (string, error) {
	base, err := c.CommitTree(ctx, repo, parent)
	if err != nil {
		return "", err
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var entries []*github.TreeEntry
	for _, p := range paths {
		e := &github.TreeEntry{Path: github.String(p), Mode: github.String("100644"), Type: github.String("blob")}
		if files[p] != nil {
			blob, _, err := c.v3.Git.CreateBlob(ctx, repo.Owner, repo.Name, &github.Blob{
				Content: github.String(base64.StdEncoding.EncodeToString(files[p])), Encoding: github.String("base64"),
			})
			if err != nil {
				return "", wrap(err, "create blob for %s in %s", p, repo)
			}
			e.SHA = blob.SHA
		}
		entries = append(entries, e)
	}
	tree, _, err := c.v3.Git.CreateTree(ctx, repo.Owner, repo.Name, base, entries)
	if err != nil {
		return "", wrap(err, "create tree on %.7s in %s", parent, repo)
	}
	commit, _, err := c.v3.Git.CreateCommit(ctx, repo.Owner, repo.Name, &github.Commit{
		Message: github.String(message), Tree: &github.Tree{SHA: tree.SHA}, Parents: []*github.Commit{{SHA: github.String(parent)}},
	}, nil)
	if err != nil {
		return "", wrap(err, "create commit on %.7s in %s", parent, repo)
	}
	return commit.GetSHA(), nil
}

// BranchSHA returns the commit a branch points at; found is false when
// there is no such branch.
func (c *Client) BranchSHA(ctx context.Context, repo Repo, branch string) (sha string, found bool, err error) {
	ref, _, err := c.v3.Git.GetRef(ctx, repo.Owner, repo.Name, "heads/"+branch)
	if IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, wrap(err, "get branch %s of %s", branch, repo)
	}
	return ref.GetObject().GetSHA(), true, nil
}

// SetBranch points branch at sha, creating it if needed. force allows a
// move that is not a fast-forward (the bot's own branch, rewritten).
func (c *Client) SetBranch(ctx context.Context, repo Repo, branch, sha string, create, force bool) error {
	ref := &github.Reference{Ref: github.String("refs/heads/" + branch), Object: &github.GitObject{SHA: github.String(sha)}}
	if create {
		_, _, err := c.v3.Git.CreateRef(ctx, repo.Owner, repo.Name, ref)
		return wrap(err, "create branch %s at %.7s in %s", branch, sha, repo)
	}
	_, _, err := c.v3.Git.UpdateRef(ctx, repo.Owner, repo.Name, ref, force)
	return wrap(err, "move branch %s to %.7s in %s", branch, sha, repo)
}

// NewPull is a pull request to open.
type NewPull struct {
	Head, Base, Title, Body string
}

// OpenPull opens a pull request and returns its number and page.
func (c *Client) OpenPull(ctx context.Context, repo Repo, p NewPull) (int, string, error) {
	pr, _, err := c.v3.PullRequests.Create(ctx, repo.Owner, repo.Name, &github.NewPullRequest{
		Title: github.String(p.Title), Head: github.String(p.Head), Base: github.String(p.Base), Body: github.String(p.Body),
	})
	if err != nil {
		return 0, "", wrap(err, "open pull request from %s in %s", p.Head, repo)
	}
	return pr.GetNumber(), pr.GetHTMLURL(), nil
}

// OpenPullFrom finds the open pull request whose head is branch of repo
// itself (0 when none).
func (c *Client) OpenPullFrom(ctx context.Context, repo Repo, branch string) (int, string, error) {
	prs, _, err := c.v3.PullRequests.List(ctx, repo.Owner, repo.Name, &github.PullRequestListOptions{State: "open", Head: repo.Owner + ":" + branch})
	if err != nil {
		return 0, "", wrap(err, "list pull requests from %s in %s", branch, repo)
	}
	if len(prs) == 0 {
		return 0, "", nil
	}
	return prs[0].GetNumber(), prs[0].GetHTMLURL(), nil
}

// EditPull sets a pull request's title and body.
func (c *Client) EditPull(ctx context.Context, repo Repo, number int, title, body string) error {
	_, _, err := c.v3.PullRequests.Edit(ctx, repo.Owner, repo.Name, number, &github.PullRequest{Title: github.String(title), Body: github.String(body)})
	return wrap(err, "edit %s#%d", repo, number)
}

// PullFiles lists the paths a pull request changes.
func (c *Client) PullFiles(ctx context.Context, repo Repo, number int) ([]string, error) {
	var out []string
	opts := &github.ListOptions{PerPage: 100}
	for {
		files, resp, err := c.v3.PullRequests.ListFiles(ctx, repo.Owner, repo.Name, number, opts)
		if err != nil {
			return nil, wrap(err, "list files of %s#%d", repo, number)
		}
		for _, f := range files {
			out = append(out, f.GetFilename())
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// ErrCannotRevert is GitHub refusing to revert a pull request: it does not
// apply cleanly on the base branch, or was reverted already.
var ErrCannotRevert = errors.New("GitHub could not revert the pull request automatically")

// RevertPull opens a pull request reverting a merged one (GraphQL
// revertPullRequest, what the Revert button does) and returns its number
// and page. A revert GitHub cannot make is ErrCannotRevert.
func (c *Client) RevertPull(ctx context.Context, prNodeID, title, body string) (int, string, error) {
	var m struct {
		RevertPullRequest struct {
			RevertPullRequest struct {
				Number int
				URL    string
			}
		} `graphql:"revertPullRequest(input: $input)"`
	}
	input := githubv4.RevertPullRequestInput{PullRequestID: githubv4.ID(prNodeID)}
	if title != "" {
		t := githubv4.String(title)
		input.Title = &t
	}
	if body != "" {
		b := githubv4.String(body)
		input.Body = &b
	}
	if err := c.v4.Mutate(ctx, &m, input, nil); err != nil {
		if isRevertRefusal(err) {
			return 0, "", fmt.Errorf("revert pull request %s: %w (%v)", prNodeID, ErrCannotRevert, err)
		}
		return 0, "", wrap(err, "revert pull request %s", prNodeID)
	}
	return m.RevertPullRequest.RevertPullRequest.Number, m.RevertPullRequest.RevertPullRequest.URL, nil
}

// isRevertRefusal tells GitHub's "couldn't be reverted automatically" from
// other GraphQL errors (which carry no code githubv4 exposes).
func isRevertRefusal(err error) bool {
	s := err.Error()
	return strings.Contains(s, "reverted automatically") || strings.Contains(s, "not merged")
}
