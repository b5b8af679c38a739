package gh

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
)

// RepoInfo is what the bot needs to know about a repository.
type RepoInfo struct {
	// DefaultBranch is where configuration is trusted from and what merges deploy.
	DefaultBranch string
	Private       bool
	HTMLURL       string
}

// Repository reads a repository.
func (c *Client) Repository(ctx context.Context, repo Repo) (RepoInfo, error) {
	r, _, err := c.v3.Repositories.Get(ctx, repo.Owner, repo.Name)
	if err != nil {
		return RepoInfo{}, wrap(err, "get repository %s", repo)
	}
	return RepoInfo{DefaultBranch: r.GetDefaultBranch(), Private: r.GetPrivate(), HTMLURL: r.GetHTMLURL()}, nil
}

// branchInfo is the part of GET /repos/{o}/{r}/branches/{branch} the bot
// reads; go-github v60's Branch has no protection.
type branchInfo struct {
	Commit struct {
		SHA string `json:"sha"`
	} `json:"commit"`
	Protection struct {
		RequiredStatusChecks struct {
			Contexts []string `json:"contexts"`
			Checks   []struct {
				Context string `json:"context"`
			} `json:"checks"`
		} `json:"required_status_checks"`
	} `json:"protection"`
}

func (c *Client) branch(ctx context.Context, repo Repo, branch string) (branchInfo, error) {
	var b branchInfo
	req, err := c.v3.NewRequest("GET", fmt.Sprintf("repos/%s/%s/branches/%s", repo.Owner, repo.Name, url.PathEscape(branch)), nil)
	if err != nil {
		return b, fmt.Errorf("get branch %s of %s: %w", branch, repo, err)
	}
	_, err = c.v3.Do(ctx, req, &b)
	return b, wrap(err, "get branch %s of %s", branch, repo)
}

// BranchHead returns the commit branch points at.
func (c *Client) BranchHead(ctx context.Context, repo Repo, branch string) (string, error) {
	b, err := c.branch(ctx, repo, branch)
	if err != nil {
		return "", err
	}
	return b.Commit.SHA, nil
}

// rule is one rule of GET /repos/{o}/{r}/rules/branches/{branch}. go-github
// v60's RepositoryRule refuses rule types it does not know (merge_queue),
// so rules are decoded here.
type rule struct {
	Type       string          `json:"type"`
	Parameters json.RawMessage `json:"parameters"`
}

// branchRules lists the rules of every active ruleset targeting branch,
// every page. A branch no ruleset targets has none.
func (c *Client) branchRules(ctx context.Context, repo Repo, branch string) ([]rule, error) {
	var out []rule
	for page := 1; ; {
		u := fmt.Sprintf("repos/%s/%s/rules/branches/%s?per_page=100&page=%d", repo.Owner, repo.Name, url.PathEscape(branch), page)
		req, err := c.v3.NewRequest("GET", u, nil)
		if err != nil {
			return nil, fmt.Errorf("rules of branch %s of %s: %w", branch, repo, err)
		}
		var rules []rule
		resp, err := c.v3.Do(ctx, req, &rules)
		if err != nil {
			return nil, wrap(err, "rules of branch %s of %s", branch, repo)
		}
		out = append(out, rules...)
		if resp.NextPage == 0 {
			return out, nil
		}
		page = resp.NextPage
	}
}

// RequiredChecks lists the status check contexts (or check run names) a
// pull request into branch must pass: branch protection's required status
// checks and the required_status_checks rules of the rulesets targeting
// it, each once, protection's first. None configured is an empty list.
func (c *Client) RequiredChecks(ctx context.Context, repo Repo, branch string) ([]string, error) {
	b, err := c.branch(ctx, repo, branch)
	if err != nil {
		return nil, err
	}
	rules, err := c.branchRules(ctx, repo, branch)
	if err != nil {
		return nil, err
	}
	out := []string{}
	seen := map[string]bool{}
	add := func(name string) {
		if name != "" && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	// contexts is the older field; checks the newer one. GitHub fills both.
	for _, name := range b.Protection.RequiredStatusChecks.Contexts {
		add(name)
	}
	for _, ch := range b.Protection.RequiredStatusChecks.Checks {
		add(ch.Context)
	}
	for _, r := range rules {
		if r.Type != "required_status_checks" {
			continue
		}
		var p struct {
			RequiredStatusChecks []struct {
				Context string `json:"context"`
			} `json:"required_status_checks"`
		}
		if err := json.Unmarshal(r.Parameters, &p); err != nil {
			return nil, fmt.Errorf("rules of branch %s of %s: required_status_checks: %w", branch, repo, err)
		}
		for _, ch := range p.RequiredStatusChecks {
			add(ch.Context)
		}
	}
	return out, nil
}

// UsesMergeQueue reports whether pull requests into branch merge through
// GitHub's merge queue (a ruleset's merge_queue rule): then they are
// enqueued (Enqueue), not merged directly.
func (c *Client) UsesMergeQueue(ctx context.Context, repo Repo, branch string) (bool, error) {
	rules, err := c.branchRules(ctx, repo, branch)
	if err != nil {
		return false, err
	}
	for _, r := range rules {
		if r.Type == "merge_queue" {
			return true, nil
		}
	}
	return false, nil
}
