// Package gh holds every GitHub read and write the bot makes: pull requests
// (merging them, or enqueueing them with GraphQL enqueuePullRequest),
// reviews, comments (including GraphQL minimizeComment), reactions, check
// runs, commit statuses, deployments, branch requirements (protection and
// rulesets), permissions and team membership, and tarball downloads. It
// is built on go-github v60 and go-githubapp's client creator, with a
// transport that retries what GitHub asks clients to retry (see
// Transport). Where go-github v60 lacks a field (role_name, a branch's
// protection, merge_queue rules) the call is decoded here.
//
// Every error says what was being done ("verb object: %w") and keeps
// GitHub's error matchable: IsNotFound, IsPermissionMissing.
//
// gh knows nothing of plans or Kubernetes: callers hand it text and ids.
package gh

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-github/v60/github"
	"github.com/shurcooL/githubv4"
)

// Repo names a repository.
type Repo struct {
	Owner, Name string
}

// FullName is "owner/name".
func (r Repo) FullName() string { return r.Owner + "/" + r.Name }

// String is FullName.
func (r Repo) String() string { return r.FullName() }

// Client makes one installation's calls. It is cheap and safe for
// concurrent use.
type Client struct {
	v3 *github.Client
	v4 *githubv4.Client
	// download fetches tarballs from the URL GitHub redirects to; those URLs
	// carry their own token, so this client sends no credentials.
	download *http.Client
	limits   TarballLimits
}

// NewClient wraps go-github and githubv4 clients. download fetches the
// tarball URLs GitHub redirects to (nil: http.DefaultClient).
func NewClient(v3 *github.Client, v4 *githubv4.Client, download *http.Client, limits TarballLimits) *Client {
	if download == nil {
		download = http.DefaultClient
	}
	return &Client{v3: v3, v4: v4, download: download, limits: limits.withDefaults()}
}

// V3 exposes the underlying go-github client for calls this package does
// not wrap yet.
func (c *Client) V3() *github.Client { return c.v3 }

// wrap adds what was being done to a GitHub error, keeping it matchable.
// Messages name a commit by its first 7 characters, as GitHub shows it,
// with the %.7s verb: gh imports none of tugboat's packages, so it cannot
// share comments.ShortSHA.
func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err)
}

// IsNotFound reports whether err is GitHub's 404.
func IsNotFound(err error) bool {
	var er *github.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound
}
