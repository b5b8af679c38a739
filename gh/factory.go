package gh

import (
	"context"
	"fmt"
	"net/http"

	"github.com/palantir/go-githubapp/githubapp"
)

// Factory makes Clients for installations of the app.
type Factory struct {
	Creator githubapp.ClientCreator
	// Download fetches tarball redirects; it should carry the retrying
	// Transport but no credentials.
	Download *http.Client
	Limits   TarballLimits
}

// Installation returns a client acting as the given installation.
func (f *Factory) Installation(id int64) (*Client, error) {
	v3, err := f.Creator.NewInstallationClient(id)
	if err != nil {
		return nil, fmt.Errorf("GitHub client for installation %d: %w", id, err)
	}
	v4, err := f.Creator.NewInstallationV4Client(id)
	if err != nil {
		return nil, fmt.Errorf("GitHub GraphQL client for installation %d: %w", id, err)
	}
	return NewClient(v3, v4, f.Download, f.Limits), nil
}

// AppSlug asks GitHub for the app's slug (commands may address it as
// @slug) and its bot account's login ("slug[bot]").
func (f *Factory) AppSlug(ctx context.Context) (string, error) {
	c, err := f.Creator.NewAppClient()
	if err != nil {
		return "", fmt.Errorf("GitHub app client: %w", err)
	}
	app, _, err := c.Apps.Get(ctx, "")
	if err != nil {
		return "", fmt.Errorf("get the app: %w", err)
	}
	if app.GetSlug() == "" {
		return "", fmt.Errorf("get the app: GitHub returned no slug")
	}
	return app.GetSlug(), nil
}

// ForRepo returns a client acting as the installation the repository
// belongs to (GET /repos/{owner}/{repo}/installation, as the app): for work
// no webhook started, such as concluding what a stopped process left in
// progress. An app not installed on the repository is a not-found error
// (IsNotFound).
func (f *Factory) ForRepo(ctx context.Context, repo Repo) (*Client, error) {
	app, err := f.Creator.NewAppClient()
	if err != nil {
		return nil, fmt.Errorf("GitHub app client: %w", err)
	}
	inst, _, err := app.Apps.FindRepositoryInstallation(ctx, repo.Owner, repo.Name)
	if err != nil {
		return nil, wrap(err, "find the installation of %s", repo)
	}
	return f.Installation(inst.GetID())
}
