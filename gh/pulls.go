package gh

import (
	"context"
	"fmt"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/shurcooL/githubv4"
)

// PullRequest is what the bot needs to know about a pull request.
type PullRequest struct {
	Number int
	// NodeID is the GraphQL id (Enqueue takes it).
	NodeID string
	State  string
	Draft  bool
	// HeadSHA is the PR's head commit; check runs and comment sets are keyed by it.
	HeadSHA  string
	HeadRef  string // the head branch's name
	HeadRepo string // "owner/name" of the head branch's repository
	BaseRef  string
	BaseSHA  string
	// Mergeable is false when the PR conflicts with its base.
	Mergeable bool
	// MergeableState is GitHub's mergeable_state: clean, unstable,
	// has_hooks, blocked, behind, dirty, draft or unknown.
	MergeableState string
	// MergeCommitSHA is GitHub's test merge of head into base ("" when
	// conflicting, and once closed).
	MergeCommitSHA string
	// Merged is true once merged; MergedSHA is then the commit the merge
	// made on the base (a merge commit, squash, or merge-queue group).
	Merged    bool
	MergedSHA string
	// MergedBy is who merged it ("" when not merged).
	MergedBy string
	Author   string
	HTMLURL  string
	// Body is the pull request's description.
	Body string
	// FromFork is true when the head branch lives in another repository.
	FromFork bool
}

// MergeablePolicy bounds the wait for GitHub to compute a test merge.
type MergeablePolicy struct {
	// Timeout is the longest wait for mergeable to be known (default 30 s).
	Timeout time.Duration
	// Interval is the first pause between reads, doubled up to 2 s (default 250 ms).
	Interval time.Duration
}

// PullRequest reads a pull request, waiting while GitHub still computes
// its mergeability (mergeable: null), since the test merge commit is only
// trustworthy once it is known.
func (c *Client) PullRequest(ctx context.Context, repo Repo, number int, p MergeablePolicy) (*PullRequest, error) {
	if p.Timeout <= 0 {
		p.Timeout = 30 * time.Second
	}
	if p.Interval <= 0 {
		p.Interval = 250 * time.Millisecond
	}
	deadline := time.Now().Add(p.Timeout)
	interval := p.Interval
	for {
		pr, _, err := c.v3.PullRequests.Get(ctx, repo.Owner, repo.Name, number)
		if err != nil {
			return nil, wrap(err, "get pull request %s#%d", repo, number)
		}
		if pr.Mergeable != nil || pr.GetState() != "open" {
			return convertPR(repo, pr), nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("pull request %s#%d: GitHub did not compute mergeability within %s", repo, number, p.Timeout)
		}
		if err := sleepCtx(ctx, interval); err != nil {
			return nil, fmt.Errorf("pull request %s#%d: %w", repo, number, err)
		}
		interval = min(interval*2, 2*time.Second)
	}
}

func convertPR(repo Repo, pr *github.PullRequest) *PullRequest {
	out := &PullRequest{
		Number:         pr.GetNumber(),
		NodeID:         pr.GetNodeID(),
		State:          pr.GetState(),
		Draft:          pr.GetDraft(),
		HeadSHA:        pr.GetHead().GetSHA(),
		HeadRef:        pr.GetHead().GetRef(),
		HeadRepo:       pr.GetHead().GetRepo().GetFullName(),
		BaseRef:        pr.GetBase().GetRef(),
		BaseSHA:        pr.GetBase().GetSHA(),
		Mergeable:      pr.GetMergeable(),
		MergeableState: pr.GetMergeableState(),
		MergeCommitSHA: pr.GetMergeCommitSHA(),
		Merged:         pr.GetMerged(),
		Author:         pr.GetUser().GetLogin(),
		HTMLURL:        pr.GetHTMLURL(),
		Body:           pr.GetBody(),
	}
	out.FromFork = out.HeadRepo != "" && out.HeadRepo != repo.FullName()
	if out.Merged {
		// After the merge, merge_commit_sha names the commit it made.
		out.MergedSHA = pr.GetMergeCommitSHA()
		out.MergedBy = pr.GetMergedBy().GetLogin()
	}
	if !out.Mergeable {
		out.MergeCommitSHA = ""
	}
	return out
}

// FirstParent returns the first parent of a commit. For GitHub's test merge
// commit that is the base branch head the merge was computed against.
func (c *Client) FirstParent(ctx context.Context, repo Repo, sha string) (string, error) {
	commit, _, err := c.v3.Repositories.GetCommit(ctx, repo.Owner, repo.Name, sha, nil)
	if err != nil {
		return "", wrap(err, "get commit %s@%.7s", repo, sha)
	}
	if len(commit.Parents) == 0 {
		return "", fmt.Errorf("commit %s@%.7s has no parent", repo, sha)
	}
	return commit.Parents[0].GetSHA(), nil
}

// CanWrite reports whether user has write access (write, maintain or
// admin) to repo.
func (c *Client) CanWrite(ctx context.Context, repo Repo, user string) (bool, error) {
	perm, _, err := c.v3.Repositories.GetPermissionLevel(ctx, repo.Owner, repo.Name, user)
	if err != nil {
		if IsNotFound(err) {
			return false, nil
		}
		return false, wrap(err, "permission of %s on %s", user, repo)
	}
	switch perm.GetPermission() {
	case "admin", "maintain", "write":
		return true, nil
	}
	return false, nil
}

// PullForCommit finds the open pull request whose head is sha (0 if none).
func (c *Client) PullForCommit(ctx context.Context, repo Repo, sha string) (int, error) {
	prs, _, err := c.v3.PullRequests.ListPullRequestsWithCommit(ctx, repo.Owner, repo.Name, sha, nil)
	if err != nil {
		return 0, wrap(err, "pull requests of commit %s@%.7s", repo, sha)
	}
	for _, pr := range prs {
		if pr.GetState() == "open" && pr.GetHead().GetSHA() == sha {
			return pr.GetNumber(), nil
		}
	}
	return 0, nil
}

// PullsForCommit lists the pull requests GitHub associates with a commit
// (GET commits/{sha}/pulls, every page): those whose head it is, and the
// one whose merge made it. A push with none came from no pull request.
func (c *Client) PullsForCommit(ctx context.Context, repo Repo, sha string) ([]int, error) {
	opts := &github.ListOptions{PerPage: 100}
	var out []int
	for {
		prs, resp, err := c.v3.PullRequests.ListPullRequestsWithCommit(ctx, repo.Owner, repo.Name, sha, opts)
		if err != nil {
			return nil, wrap(err, "pull requests of commit %s@%.7s", repo, sha)
		}
		for _, pr := range prs {
			out = append(out, pr.GetNumber())
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// Merge merges a pull request with method (merge, squash or rebase; ""
// is merge), only if its head is still headSHA: GitHub answers 409 when
// the head moved, 405 when the pull request is not mergeable (conflicts,
// unmet requirements, a merge queue in charge).
func (c *Client) Merge(ctx context.Context, repo Repo, number int, headSHA, method string) error {
	_, _, err := c.v3.PullRequests.Merge(ctx, repo.Owner, repo.Name, number, "", &github.PullRequestOptions{SHA: headSHA, MergeMethod: method})
	return wrap(err, "merge %s#%d at %.7s", repo, number, headSHA)
}

// Enqueue adds a pull request (by GraphQL node id) to its base branch's
// merge queue (GraphQL enqueuePullRequest), only if its head is still
// headSHA ("" skips that guard). GitHub then builds a merge group and
// sends merge_group checks_requested.
func (c *Client) Enqueue(ctx context.Context, prNodeID, headSHA string) error {
	var m struct {
		EnqueuePullRequest struct {
			MergeQueueEntry struct {
				Position int
			}
		} `graphql:"enqueuePullRequest(input: $input)"`
	}
	input := githubv4.EnqueuePullRequestInput{PullRequestID: githubv4.ID(prNodeID)}
	if headSHA != "" {
		oid := githubv4.GitObjectID(headSHA)
		input.ExpectedHeadOid = &oid
	}
	return wrap(c.v4.Mutate(ctx, &m, input, nil), "enqueue pull request %s", prNodeID)
}
