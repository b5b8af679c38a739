package gh

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"
)

// MaxStatusDescription is GitHub's limit on a commit status's (and a
// deployment status's) description, in characters.
const MaxStatusDescription = 140

// Status is a commit status.
type Status struct {
	Context, State, Description, TargetURL string
	// Creator is the login that set it: tugboat's own statuses carry the
	// bot's login.
	Creator   string
	UpdatedAt time.Time
}

// Statuses lists the latest status of each context on sha, newest first.
// It reads the full list (every page) rather than the combined status,
// because only the list says who set each status.
func (c *Client) Statuses(ctx context.Context, repo Repo, sha string) ([]Status, error) {
	opts := &github.ListOptions{PerPage: 100}
	var out []Status
	seen := map[string]bool{}
	for {
		page, resp, err := c.v3.Repositories.ListStatuses(ctx, repo.Owner, repo.Name, sha, opts)
		if err != nil {
			return nil, wrap(err, "list statuses of %s@%.7s", repo, sha)
		}
		// GitHub lists newest first: the first of each context is its latest.
		for _, st := range page {
			if seen[st.GetContext()] {
				continue
			}
			seen[st.GetContext()] = true
			out = append(out, Status{
				Context: st.GetContext(), State: st.GetState(), Description: st.GetDescription(),
				TargetURL: st.GetTargetURL(), Creator: st.GetCreator().GetLogin(), UpdatedAt: st.GetUpdatedAt().Time,
			})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// SetStatus sets a commit status on sha (state: pending, success, failure
// or error). A description over GitHub's 140 characters is clipped with
// "…" instead of being refused.
func (c *Client) SetStatus(ctx context.Context, repo Repo, sha string, st Status) error {
	in := &github.RepoStatus{
		State: github.String(st.State), Context: github.String(st.Context),
		Description: github.String(clip(st.Description, MaxStatusDescription)),
	}
	if st.TargetURL != "" {
		in.TargetURL = github.String(st.TargetURL)
	}
	_, _, err := c.v3.Repositories.CreateStatus(ctx, repo.Owner, repo.Name, sha, in)
	return wrap(err, "set status %s on %s@%.7s", st.Context, repo, sha)
}

// clip shortens s to at most max characters (runes, as GitHub counts them),
// ending in "…" when it had to cut.
func clip(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}
