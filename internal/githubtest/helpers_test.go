package githubtest

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"
)

// fixture is an emulator with one installed repository, acme/infra, and a
// go-github client authenticated the way the bot is: the real
// ghinstallation transport trading the app's JWT for installation tokens.
type fixture struct {
	s      *Server
	gh     *github.Client
	instID int64
	ctx    context.Context
}

const testRepo = "acme/infra"

func newFixture(t testing.TB, opts ...Option) *fixture {
	t.Helper()
	s := New(t, opts...)
	s.CreateRepo(testRepo, RepoOptions{Files: map[string]string{
		"deploy/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  color: blue\n",
		"README.md":       "# infra\n",
	}})
	id := s.CreateInstallation("acme")
	return &fixture{s: s, gh: installationClient(t, s, id), instID: id, ctx: context.Background()}
}

func installationClient(t testing.TB, s *Server, installationID int64) *github.Client {
	t.Helper()
	app := s.App()
	itr, err := ghinstallation.New(http.DefaultTransport, app.ID, installationID, app.PrivateKeyPEM)
	if err != nil {
		t.Fatalf("ghinstallation: %v", err)
	}
	itr.BaseURL = s.URL()
	gh := github.NewClient(&http.Client{Transport: itr})
	gh.BaseURL, _ = url.Parse(s.URL() + "/")
	return gh
}

// openFeaturePR pushes a change to the app's ConfigMap on branch "feature"
// and opens a pull request for it.
func (f *fixture) openFeaturePR(t testing.TB) (int, string) {
	t.Helper()
	sha := f.s.Commit(testRepo, "feature", map[string]string{
		"deploy/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  color: green\n",
	}, "Make it green")
	n := f.s.OpenPR(testRepo, PROptions{Head: "feature", Title: "Green", Body: "Turns the app **green**.", Author: "alice"})
	return n, sha
}

func must[T any](t testing.TB) func(v T, _ *github.Response, err error) T {
	return func(v T, _ *github.Response, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func newAppsTransport(app App) (*ghinstallation.AppsTransport, error) {
	return ghinstallation.NewAppsTransport(http.DefaultTransport, app.ID, app.PrivateKeyPEM)
}

func newInstallationTransport(app App, installationID int64, baseURL string) (*ghinstallation.Transport, error) {
	itr, err := ghinstallation.New(http.DefaultTransport, app.ID, installationID, app.PrivateKeyPEM)
	if err != nil {
		return nil, err
	}
	itr.BaseURL = baseURL
	return itr, nil
}

// newAppClient is a go-github client authenticated as the app (its JWT).
func newAppClient(t testing.TB, s *Server) *github.Client {
	t.Helper()
	atr, err := newAppsTransport(s.App())
	if err != nil {
		t.Fatal(err)
	}
	atr.BaseURL = s.URL()
	c := github.NewClient(&http.Client{Transport: atr})
	c.BaseURL, _ = url.Parse(s.URL() + "/")
	return c
}
