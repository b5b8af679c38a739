package githubtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
)

// Registering a GitHub App from a manifest
// (https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest):
// a person's browser posts a form with the manifest (JSON, field
// `manifest`) to /settings/apps/new?state=S, or to
// /organizations/ORG/settings/apps/new for an organization's App; GitHub
// registers the App once the person confirms and redirects the browser to
// the manifest's redirect_url with ?code=C&state=S. The code is then
// exchanged, once and within an hour, for the App's id, private key and
// webhook secret: POST /app-manifests/{code}/conversions
// (handlers_manifests.go). The pages are in manifest_pages.go.
//
// The emulator hosts one App under test (s.app): registering one through
// the manifest flow replaces it — its id, key, webhook secret, name and
// bot account become the new App's, deliveries go to the manifest's
// webhook URL, only its subscribed events are delivered, and new
// installations grant its permissions — so a bot configured from the
// conversion authenticates as exactly that App.

// manifestCodeTTL is how long a manifest code can be exchanged.
const manifestCodeTTL = time.Hour

// maxAppNameLength is GitHub's limit on an App's name.
const maxAppNameLength = 34

// appManifest is what a manifest may hold: GitHub's documented parameters.
type appManifest struct {
	Name           string `json:"name"`
	URL            string `json:"url"`
	HookAttributes *struct {
		URL    string `json:"url"`
		Active *bool  `json:"active"`
	} `json:"hook_attributes"`
	RedirectURL           string            `json:"redirect_url"`
	CallbackURLs          []string          `json:"callback_urls"`
	SetupURL              string            `json:"setup_url"`
	Description           string            `json:"description"`
	Public                bool              `json:"public"`
	DefaultEvents         []string          `json:"default_events"`
	DefaultPermissions    map[string]string `json:"default_permissions"`
	RequestOAuthOnInstall bool              `json:"request_oauth_on_install"`
	SetupOnUpdate         bool              `json:"setup_on_update"`
}

// registration is what the manifest flow set on an App.
type registration struct {
	owner       *User
	description string
	homepage    string
	permissions map[string]string
	events      []string
	hookURL     string // "" when the webhook is inactive
	clientID    string
	secret      string // the OAuth client secret
}

// manifestCode is a code the redirect handed out: the App it stands for,
// with its credentials, until it is exchanged or expires.
type manifestCode struct {
	app     App
	expires time.Time
}

// eventPermissions names the permission each webhook event needs (GitHub
// refuses a manifest subscribing to an event its permissions do not
// cover). Events not listed here are refused as unknown to the emulator.
var eventPermissions = map[string]string{
	"check_run": "checks", "check_suite": "checks",
	"issue_comment": "issues", "issues": "issues", "label": "issues", "milestone": "issues",
	"pull_request": "pull_requests", "pull_request_review": "pull_requests",
	"pull_request_review_comment": "pull_requests", "pull_request_review_thread": "pull_requests",
	"push": "contents", "create": "contents", "delete": "contents", "release": "contents",
	"merge_group":       "merge_queues",
	"deployment":        "deployments",
	"deployment_status": "deployments",
	"status":            "statuses",
	"member":            "members", "membership": "members", "organization": "members", "team": "members",
	"repository": "metadata", "public": "metadata",
}

// alwaysDelivered are the events every App gets without subscribing.
var alwaysDelivered = map[string]bool{"installation": true, "installation_repositories": true}

// parseManifest decodes and checks a manifest as GitHub does, returning
// every problem found.
func (s *Server) parseManifest(raw string) (*appManifest, []string) {
	var m appManifest
	dec := json.NewDecoder(strings.NewReader(raw))
	// GitHub ignores keys it does not know; the emulator refuses them, so
	// a misspelt key in a test's manifest is found rather than dropped.
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, []string{"Invalid manifest: " + err.Error()}
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	switch {
	case strings.TrimSpace(m.Name) == "":
		bad("Name can't be blank")
	case len(m.Name) > maxAppNameLength:
		bad("Name is too long (maximum is %d characters)", maxAppNameLength)
	case s.appNameTaken(m.Name):
		bad("Name is already taken")
	}
	if m.URL == "" {
		bad("Homepage URL can't be blank")
	} else if !webURL(m.URL) {
		bad("Homepage URL is not a valid URL")
	}
	if h := m.HookAttributes; h != nil && (h.Active == nil || *h.Active) {
		if h.URL == "" {
			bad("Webhook URL can't be blank")
		} else if !webURL(h.URL) {
			bad("Webhook URL is not a valid URL")
		}
	}
	// GitHub falls back to the App's page without redirect_url; the code
	// only reaches the client through it, so the emulator requires it.
	if !webURL(m.RedirectURL) {
		bad("Redirect URL is not a valid URL: the code is handed back through it")
	}
	for _, u := range append(m.CallbackURLs, m.SetupURL) {
		if u != "" && !webURL(u) {
			bad("URL %q is not a valid URL", u)
		}
	}
	levels := s.permissionLevels()
	for _, name := range sortedKeys(m.DefaultPermissions) {
		allowed, ok := levels[name]
		switch {
		case !ok:
			bad("Default permission %q does not exist", name)
		case !slices.Contains(allowed, m.DefaultPermissions[name]):
			bad("Default permission %s: %q is not one of %s", name, m.DefaultPermissions[name], strings.Join(allowed, ", "))
		}
	}
	for _, e := range m.DefaultEvents {
		need, ok := eventPermissions[e]
		switch {
		case alwaysDelivered[e]:
			bad("Default event %s is delivered to every App: it cannot be subscribed", e)
		case !ok:
			bad("Default event %q is not an event the emulator knows", e)
		case need != "metadata" && m.DefaultPermissions[need] == "":
			bad("Default events unsupported by the permissions: %s needs %s", e, need)
		}
	}
	return &m, problems
}

// permissionLevels lists each App permission GitHub's description knows
// with its levels (its app-permissions schema).
func (s *Server) permissionLevels() map[string][]string {
	out := map[string][]string{}
	ref := s.desc.doc.Components.Schemas["app-permissions"]
	if ref == nil || ref.Value == nil {
		return out
	}
	for name, p := range ref.Value.Properties {
		for _, e := range p.Value.Enum {
			if v, ok := e.(string); ok {
				out[name] = append(out[name], v)
			}
		}
	}
	return out
}

// appNameTaken reports whether an App of that name exists: one registered
// through the manifest flow, or another App (a CI system). The built-in
// App the emulator starts with is not counted: it stands for the App a
// test has not registered.
func (s *Server) appNameTaken(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	slug := appSlug(name)
	if s.registeredSlugs[slug] {
		return true
	}
	_, ok := s.otherApps[slug]
	return ok
}

// registerApp registers m as the emulator's App (see the top of this
// file), owned by owner, and returns the code that exchanges for it.
func (s *Server) registerApp(m *appManifest, owner *User) (string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", fmt.Errorf("app key: %w", err)
	}
	reg := &registration{
		owner: owner, description: m.Description, homepage: m.URL,
		permissions: map[string]string{}, events: append([]string(nil), m.DefaultEvents...),
		clientID: "Iv1." + randomHex(8), secret: randomHex(20),
	}
	for k, v := range m.DefaultPermissions {
		reg.permissions[k] = v
	}
	// Every App can read metadata; GitHub adds it when a manifest does not.
	if reg.permissions["metadata"] == "" {
		reg.permissions["metadata"] = "read"
	}
	if h := m.HookAttributes; h != nil && (h.Active == nil || *h.Active) {
		reg.hookURL = h.URL
	}
	code := randomHex(10)
	s.mu.Lock()
	*s.app = App{
		ID:            s.id(),
		Slug:          appSlug(m.Name),
		Name:          m.Name,
		PrivateKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		WebhookSecret: randomHex(20),
		registered:    reg,
	}
	delete(s.users, s.bot.Login)
	s.bot.Login = s.app.Slug + "[bot]"
	s.users[s.bot.Login] = s.bot
	if s.registeredSlugs == nil {
		s.registeredSlugs = map[string]bool{}
	}
	s.registeredSlugs[s.app.Slug] = true
	if s.manifestCodes == nil {
		s.manifestCodes = map[string]*manifestCode{}
	}
	s.manifestCodes[code] = &manifestCode{app: *s.app, expires: time.Now().Add(manifestCodeTTL)}
	app := *s.app
	s.mu.Unlock()
	s.hooks.subscribe(reg.hookURL, app.WebhookSecret, reg.events)
	s.logf("githubtest: registered the GitHub App %q (id %d) from a manifest", app.Name, app.ID)
	return code, nil
}

// takeManifestCode hands out the App a code stands for, once: a code is
// gone after its first exchange, and after manifestCodeTTL.
func (s *Server) takeManifestCode(code string) (App, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mc, ok := s.manifestCodes[code]
	delete(s.manifestCodes, code)
	if !ok || time.Now().After(mc.expires) {
		return App{}, false
	}
	return mc.app, true
}

// appSlug is the slug GitHub derives from an App's name: lower case,
// anything but letters and digits a dash.
func appSlug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(strings.TrimSpace(name)) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// webURL reports whether u is an absolute http(s) URL.
func webURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "https" || p.Scheme == "http") && p.Host != ""
}

// withCode adds code and state to the manifest's redirect_url, keeping
// its own query.
func withCode(redirect, code, state string) string {
	u, _ := url.Parse(redirect) // checked by parseManifest
	q := u.Query()
	q.Set("code", code)
	if state != "" {
		q.Set("state", state)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
