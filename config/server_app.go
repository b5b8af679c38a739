package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/golang-jwt/jwt/v4"
	"github.com/palantir/go-githubapp/githubapp"
	yaml "go.yaml.in/yaml/v3"
)

// App is the GitHub App part of the server configuration: how to reach
// GitHub and how the bot serves webhooks. It is inlined into Server, so its
// keys sit at the top level of the file beside clusters.
type App struct {
	GitHub GitHub `yaml:"github"`
	// Address is where `bot serve` listens (default ":8080").
	Address string `yaml:"address"`
	// PublicURL is where GitHub and people reach the bot (links in check runs).
	PublicURL string `yaml:"public_url"`
	// AllowedRepositories limits the repositories served: "owner/name" or
	// "owner/*". Empty serves every repository the app is installed on.
	AllowedRepositories []string `yaml:"allowed_repositories"`
	Queue               Queue    `yaml:"queue"`
	// LogLevel is debug, info (default), warn or error.
	LogLevel string `yaml:"log_level"`
	// AllowForkPlans plans pull requests from forks, and /plan from people
	// without write access. Off by default: a plan dry-runs against the live
	// clusters and shows what runs there.
	AllowForkPlans bool `yaml:"allow_fork_plans"`
	// Render bounds the process's renders (server_render.go).
	Render Render `yaml:"render"`
	// Endpoint is the public and admin listeners' part (server_endpoint.go).
	Endpoint `yaml:",inline"`
	// Drift configures drift detection (server_drift.go).
	Drift Drift `yaml:"drift"`
	// Home coordinates replicas (server_home.go); Resync is the leader's
	// catch-up round.
	Home   Home   `yaml:"home"`
	Resync Resync `yaml:"resync"`
}

// Queue sizes the webhook queue.
type Queue struct {
	// Size is how many events may wait (default 1000); more are answered 503.
	Size int `yaml:"size"`
	// Workers is how many events are handled at once (default 4).
	Workers int `yaml:"workers"`
}

// GitHub is go-githubapp's configuration, plus app.private_key_file as an
// alternative to an inline key (a key belongs in a mounted secret file,
// not in the config).
type GitHub struct {
	githubapp.Config `yaml:",inline"`
	// PrivateKeyFile is github.app.private_key_file.
	PrivateKeyFile string `yaml:"-"`
}

// Defaults of App.
const (
	DefaultAddress      = ":8080"
	DefaultQueueSize    = 1000
	DefaultQueueWorkers = 4
	DefaultLogLevel     = "info"
)

// knownGitHubKeys lists what github: may hold, since a custom unmarshaler
// does not get the decoder's strict mode.
var knownGitHubKeys = map[string][]string{
	"":      {"web_url", "v3_api_url", "v4_api_url", "app", "oauth"},
	"app":   {"integration_id", "webhook_secret", "private_key", "private_key_file"},
	"oauth": {"client_id", "client_secret"},
}

// UnmarshalYAML decodes github:, taking app.private_key_file out before
// handing the rest to go-githubapp's Config, and refusing unknown keys.
func (g *GitHub) UnmarshalYAML(n *yaml.Node) error {
	var problems []string
	checkKeys := func(m *yaml.Node, where string) {
		if m == nil || m.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			k := m.Content[i]
			if !contains(knownGitHubKeys[where], k.Value) {
				prefix := "github."
				if where != "" {
					prefix += where + "."
				}
				problems = append(problems, fmt.Sprintf("line %d: %s%s is not a known key (known: %s)",
					k.Line, prefix, k.Value, strings.Join(knownGitHubKeys[where], ", ")))
			}
		}
	}
	checkKeys(n, "")
	checkKeys(lookup(n, "oauth"), "oauth")
	app := lookup(n, "app")
	checkKeys(app, "app")
	if app != nil && app.Kind == yaml.MappingNode {
		kept := app.Content[:0:0]
		for i := 0; i+1 < len(app.Content); i += 2 {
			if app.Content[i].Value == "private_key_file" {
				if err := app.Content[i+1].Decode(&g.PrivateKeyFile); err != nil {
					problems = append(problems, fmt.Sprintf("line %d: github.app.private_key_file: want a path", app.Content[i+1].Line))
				}
				continue
			}
			kept = append(kept, app.Content[i], app.Content[i+1])
		}
		app.Content = kept
	}
	if len(problems) > 0 {
		return &yaml.TypeError{Errors: problems}
	}
	if err := n.Decode(&g.Config); err != nil {
		return err
	}
	return nil
}

// LoadServerApp loads the server configuration for `bot serve`: the file,
// then go-githubapp's GITHUB_* environment variables and
// TUGBOAT_DIGEST_KEY_FILE over it, then the private key file (relative to
// the config's directory) and the defaults. It refuses to start without a
// webhook secret, with an unreadable private key, or without a readable
// digest key, saying which — never printing a secret.
func LoadServerApp(file string) (*Server, error) {
	s, err := LoadServer(file)
	if err != nil {
		return nil, err
	}
	a := &s.App
	a.GitHub.SetValuesFromEnv("")
	if v, ok := os.LookupEnv("GITHUB_APP_PRIVATE_KEY_FILE"); ok {
		a.GitHub.PrivateKeyFile = v
	}
	if v := os.Getenv(DigestKeyFileEnv); v != "" {
		s.DigestKeyFile = v
	}
	s.Web.statusTokenFromEnv()
	var errs Errors
	bad := func(format string, args ...any) {
		errs = append(errs, Error{File: file, Message: fmt.Sprintf(format, args...)})
	}
	gh := &a.GitHub
	switch {
	case gh.App.PrivateKey != "" && gh.PrivateKeyFile != "":
		bad("github.app: give private_key or private_key_file, not both")
	case gh.PrivateKeyFile != "":
		keyFile := gh.PrivateKeyFile
		if !filepath.IsAbs(keyFile) {
			keyFile = filepath.Join(filepath.Dir(file), keyFile)
		}
		data, err := os.ReadFile(keyFile)
		if err != nil {
			bad("github.app.private_key_file: cannot read the app's private key: %v", err)
			break
		}
		gh.PrivateKeyFile = keyFile
		gh.App.PrivateKey = string(data)
	}
	switch {
	case gh.App.PrivateKey == "" && gh.PrivateKeyFile == "":
		bad("github.app.private_key_file (or private_key, or GITHUB_APP_PRIVATE_KEY) is not set: the app's private key is required")
	case gh.App.PrivateKey != "":
		if _, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(gh.App.PrivateKey)); err != nil {
			bad("github.app: the private key is not a PEM-encoded RSA private key")
		}
	}
	if gh.App.WebhookSecret == "" {
		bad("github.app.webhook_secret (or GITHUB_APP_WEBHOOK_SECRET) is not set: webhooks cannot be verified without it")
	}
	if gh.App.IntegrationID == 0 {
		bad("github.app.integration_id (or GITHUB_APP_INTEGRATION_ID) is not set")
	}
	// Every replica must compute the same digest for the same plan, or an
	// /apply handled by another replica than the one that planned is
	// refused: the key is configured, never invented per host.
	if s.DigestKeyFile == "" {
		bad("digest_key_file (or %s) is not set: the plan digest's key must be shared by every replica; create one with `head -c 32 /dev/urandom > digest.key; chmod 600 digest.key`", DigestKeyFileEnv)
	} else if _, err := ReadDigestKey(s.DigestKeyFile); err != nil {
		bad("digest_key_file: %v", err)
	}
	a.applyDefaults()
	a.Endpoint.load(bad)
	switch a.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level %q: want debug, info, warn or error", a.LogLevel)
	}
	if a.Queue.Size < 0 || a.Queue.Workers < 0 {
		bad("queue: size and workers must be positive")
	}
	if a.Render.Concurrency < 0 || a.Render.BufferBytes < 0 || a.Render.Timeout < 0 {
		bad("render: concurrency, buffer_bytes and timeout must be positive")
	}
	if a.Drift.Interval < 0 || a.Drift.Concurrency < 0 {
		bad("drift: interval and concurrency must be positive")
	}
	for _, pattern := range a.AllowedRepositories {
		if err := checkRepoPattern(pattern); err != nil {
			bad("allowed_repositories: %v", err)
		}
	}
	s.checkHome(bad)
	if len(errs) > 0 {
		return nil, errs
	}
	return s, nil
}

func (a *App) applyDefaults() {
	gh := &a.GitHub
	if gh.WebURL == "" {
		gh.WebURL = "https://github.com"
	}
	if gh.V3APIURL == "" {
		gh.V3APIURL = "https://api.github.com/"
	}
	if !strings.HasSuffix(gh.V3APIURL, "/") {
		gh.V3APIURL += "/"
	}
	if gh.V4APIURL == "" {
		gh.V4APIURL = "https://api.github.com/graphql"
	}
	if a.Address == "" {
		a.Address = DefaultAddress
	}
	if a.Queue.Size == 0 {
		a.Queue.Size = DefaultQueueSize
	}
	if a.Queue.Workers == 0 {
		a.Queue.Workers = DefaultQueueWorkers
	}
	if a.LogLevel == "" {
		a.LogLevel = DefaultLogLevel
	}
	a.Drift.applyDefaults()
}

// Allowed reports whether the bot serves repository "owner/name".
func (a *App) Allowed(fullName string) bool {
	if len(a.AllowedRepositories) == 0 {
		return true
	}
	return matchRepo(a.AllowedRepositories, fullName)
}
