package githubtest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"
)

// testManifest is a manifest registering App name, whose webhook goes to
// hook and whose redirect goes to redirect.
func testManifest(name, hook, redirect string) map[string]any {
	return map[string]any{
		"name": name, "url": "https://tugboat.example.com",
		"hook_attributes": map[string]any{"url": hook},
		"redirect_url":    redirect,
		"public":          false,
		"default_permissions": map[string]string{
			"contents": "read", "pull_requests": "write", "issues": "read", "checks": "write",
		},
		"default_events": []string{"pull_request", "check_run"},
	}
}

// postManifest posts the manifest form to path?state=state as a browser
// would and returns the response, redirects not followed.
func postManifest(t *testing.T, s *Server, path, state string, manifest any, extra url.Values) *http.Response {
	t.Helper()
	raw, err := json.Marshal(manifest)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"manifest": {string(raw)}}
	for k, v := range extra {
		form[k] = v
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(s.URL()+path+"?state="+url.QueryEscape(state), form)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// redirectCode checks the redirect to redirect with state and returns its code.
func redirectCode(t *testing.T, resp *http.Response, redirect, state string) string {
	t.Helper()
	if resp.StatusCode != http.StatusFound {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("manifest post: %d, want 302:\n%s", resp.StatusCode, b)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirect {
		t.Errorf("redirected to %s, want %s", got, redirect)
	}
	if got := loc.Query().Get("state"); got != state {
		t.Errorf("redirect state %q, want %q", got, state)
	}
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("redirect %s has no code", loc)
	}
	return code
}

// anonymousClient is go-github without credentials, as `bot setup` uses it.
func anonymousClient(t *testing.T, s *Server) *github.Client {
	t.Helper()
	c, err := github.NewClient(nil).WithEnterpriseURLs(s.URL(), s.URL())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// hookRecorder receives webhooks and checks their signature with secret.
type hookRecorder struct {
	mu     sync.Mutex
	secret string
	events []string
	bad    []string
}

func (h *hookRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	m := hmac.New(sha256.New, []byte(h.secret))
	m.Write(body)
	if r.Header.Get("X-Hub-Signature-256") != "sha256="+hex.EncodeToString(m.Sum(nil)) {
		h.bad = append(h.bad, r.Header.Get("X-GitHub-Event"))
	}
	h.events = append(h.events, r.Header.Get("X-GitHub-Event"))
}

func (h *hookRecorder) got() (events, bad []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.events...), append([]string(nil), h.bad...)
}

// The manifest flow registers an App the way GitHub does, and the
// credentials of the conversion are that App's: its JWT and installation
// tokens work, its installations hold the manifest's permissions, and
// webhooks go to the manifest's URL, signed with its secret, for the
// events it subscribes to only.
func TestManifestFlowRegistersUsableApp(t *testing.T) {
	s := New(t)
	s.CreateRepo(testRepo, RepoOptions{Files: map[string]string{"README.md": "# infra\n"}})
	hooks := &hookRecorder{}
	hookSrv := httptest.NewServer(hooks)
	defer hookSrv.Close()
	const redirect = "http://127.0.0.1:1/callback"
	state := randomHex(8)

	code := redirectCode(t, postManifest(t, s, "/settings/apps/new", state,
		testManifest("Tugboat Ops", hookSrv.URL+"/api/github/hook", redirect), url.Values{"login": {"alice"}}), redirect, state)
	ctx := context.Background()
	cfg, _, err := anonymousClient(t, s).Apps.CompleteAppManifest(ctx, code)
	if err != nil {
		t.Fatalf("conversion: %v", err)
	}
	if cfg.GetSlug() != "tugboat-ops" || cfg.GetName() != "Tugboat Ops" || cfg.GetOwner().GetLogin() != "alice" {
		t.Errorf("app %s (%s) owned by %s, want tugboat-ops (Tugboat Ops) owned by alice", cfg.GetSlug(), cfg.GetName(), cfg.GetOwner().GetLogin())
	}
	if cfg.GetID() == 0 || cfg.GetPEM() == "" || cfg.GetWebhookSecret() == "" || cfg.GetClientID() == "" || cfg.GetClientSecret() == "" {
		t.Fatalf("conversion lacks credentials: id %d, pem %t, webhook secret %t, client id %q, client secret %t",
			cfg.GetID(), cfg.GetPEM() != "", cfg.GetWebhookSecret() != "", cfg.GetClientID(), cfg.GetClientSecret() != "")
	}
	if want := s.URL() + "/apps/tugboat-ops"; cfg.GetHTMLURL() != want {
		t.Errorf("html_url %s, want %s", cfg.GetHTMLURL(), want)
	}

	// A code is good once.
	_, resp, err := anonymousClient(t, s).Apps.CompleteAppManifest(ctx, code)
	var ge *github.ErrorResponse
	if !errors.As(err, &ge) || resp.StatusCode != http.StatusNotFound || ge.Message != "Not Found" {
		t.Errorf("second conversion of the code: %v, want 404 Not Found", err)
	}

	// The person installs the App from its page.
	hooks.secret = cfg.GetWebhookSecret()
	form := url.Values{"account": {"acme"}}
	installResp, err := http.PostForm(cfg.GetHTMLURL()+"/installations/new", form)
	if err != nil {
		t.Fatal(err)
	}
	installResp.Body.Close()
	if installResp.StatusCode != http.StatusOK {
		t.Fatalf("install: %d", installResp.StatusCode)
	}

	// The App's JWT, from the conversion's key and id.
	atr, err := ghinstallation.NewAppsTransport(http.DefaultTransport, cfg.GetID(), []byte(cfg.GetPEM()))
	if err != nil {
		t.Fatal(err)
	}
	atr.BaseURL = s.URL()
	appClient, _ := github.NewClient(&http.Client{Transport: atr}).WithEnterpriseURLs(s.URL(), s.URL())
	app, _, err := appClient.Apps.Get(ctx, "")
	if err != nil {
		t.Fatalf("GET /app as the registered App: %v", err)
	}
	if app.GetID() != cfg.GetID() || app.GetPermissions().GetIssues() != "read" || len(app.Events) != 2 {
		t.Errorf("GET /app: id %d permissions %+v events %v, want the manifest's", app.GetID(), app.GetPermissions(), app.Events)
	}
	inst, _, err := appClient.Apps.FindRepositoryInstallation(ctx, "acme", "infra")
	if err != nil {
		t.Fatalf("find installation: %v", err)
	}
	itr := ghinstallation.NewFromAppsTransport(atr, inst.GetID())
	itr.BaseURL = s.URL()
	gh, _ := github.NewClient(&http.Client{Transport: itr}).WithEnterpriseURLs(s.URL(), s.URL())
	if _, _, err := gh.Repositories.Get(ctx, "acme", "infra"); err != nil {
		t.Errorf("installation token of the registered App: %v", err)
	}
	// issues: read, as the manifest asked: a comment is refused.
	s.Commit(testRepo, "feature", map[string]string{"x": "y"}, "x")
	n := s.OpenPR(testRepo, PROptions{Head: "feature", Title: "x", Author: "alice"})
	_, resp, err = gh.Issues.CreateComment(ctx, "acme", "infra", n, &github.IssueComment{Body: github.String("hi")})
	if resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("comment with issues: read: %v, want 403", err)
	}
	if bot := s.Bot().Login; bot != "tugboat-ops[bot]" {
		t.Errorf("bot account %s, want tugboat-ops[bot]", bot)
	}

	// Deliveries: to the manifest's URL, signed with its secret; an
	// unsubscribed event (issue_comment) is not sent.
	s.Comment(testRepo, n, "alice", "hello")
	s.WaitForDeliveries()
	events, bad := hooks.got()
	if len(bad) > 0 {
		t.Errorf("deliveries not signed with the registered App's secret: %v", bad)
	}
	want := []string{"installation", "pull_request"}
	if strings.Join(events, ",") != strings.Join(want, ",") {
		t.Errorf("delivered %v, want %v", events, want)
	}
}

// An organization's App is owned by the organization.
func TestManifestFlowOrganization(t *testing.T) {
	s := New(t)
	const redirect = "https://setup.example.com/cb"
	code := redirectCode(t, postManifest(t, s, "/organizations/acme/settings/apps/new", "s1",
		testManifest("acme-tugboat", "https://tugboat.example.com/api/github/hook", redirect), nil), redirect, "s1")
	cfg, _, err := anonymousClient(t, s).Apps.CompleteAppManifest(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.GetOwner().GetLogin() != "acme" || cfg.GetOwner().GetType() != "Organization" {
		t.Errorf("owner %s (%s), want the organization acme", cfg.GetOwner().GetLogin(), cfg.GetOwner().GetType())
	}
}

// A manifest GitHub would refuse gets a 422 page naming each problem, and
// no code.
func TestManifestRefused(t *testing.T) {
	s := New(t)
	const redirect = "https://setup.example.com/cb"
	hook := "https://tugboat.example.com/api/github/hook"
	// Registered once: the name is taken after.
	redirectCode(t, postManifest(t, s, "/settings/apps/new", "s", testManifest("tugboat", hook, redirect), nil), redirect, "s")
	for name, c := range map[string]struct {
		edit func(m map[string]any)
		want string
	}{
		"name taken":         {func(m map[string]any) { m["name"] = "TugBoat" }, "Name is already taken"},
		"name too long":      {func(m map[string]any) { m["name"] = strings.Repeat("t", 35) }, "Name is too long (maximum is 34 characters)"},
		"unknown permission": {func(m map[string]any) { m["default_permissions"] = map[string]string{"rockets": "write"} }, `Default permission &#34;rockets&#34; does not exist`},
		"bad level":          {func(m map[string]any) { m["default_permissions"] = map[string]string{"checks": "admin"} }, "Default permission checks: &#34;admin&#34; is not one of read, write"},
		"event without permission": {func(m map[string]any) {
			m["default_permissions"] = map[string]string{"checks": "write"}
			m["default_events"] = []string{"push"}
		}, "Default events unsupported by the permissions: push needs contents"},
		"no webhook url": {func(m map[string]any) { m["hook_attributes"] = map[string]any{"active": true} }, "Webhook URL can&#39;t be blank"},
		"no redirect":    {func(m map[string]any) { delete(m, "redirect_url") }, "Redirect URL is not a valid URL"},
		"misspelt key":   {func(m map[string]any) { m["default_permission"] = map[string]string{} }, "Invalid manifest"},
	} {
		t.Run(name, func(t *testing.T) {
			m := testManifest("other-"+randomHex(3), hook, redirect)
			c.edit(m)
			resp := postManifest(t, s, "/settings/apps/new", "s", m, nil)
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(body), c.want) {
				t.Errorf("%d %s, want 422 with %q", resp.StatusCode, body, c.want)
			}
		})
	}
}

// A code expires an hour after the redirect.
func TestManifestCodeExpires(t *testing.T) {
	s := New(t)
	const redirect = "https://setup.example.com/cb"
	code := redirectCode(t, postManifest(t, s, "/settings/apps/new", "s",
		testManifest("tugboat", "https://tugboat.example.com/api/github/hook", redirect), nil), redirect, "s")
	s.mu.Lock()
	s.manifestCodes[code].expires = time.Now().Add(-time.Second)
	s.mu.Unlock()
	_, resp, err := anonymousClient(t, s).Apps.CompleteAppManifest(context.Background(), code)
	if resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("expired code: %v, want 404", err)
	}
}
