package config

import (
	"os"
	"strings"
	"time"
)

// Endpoint is what the server config says about the bot's two listeners:
// the public one (webhooks, badges, per-repository status, probes) and the
// admin one (metrics, cluster details, the all-repositories status page),
// and what an unauthenticated client may hold of the public one.
type Endpoint struct {
	// AdminAddress is where /metrics, cluster details and the
	// all-repositories status page are served. Keep it off the public
	// Service. Empty: no admin listener.
	AdminAddress string `yaml:"admin_address"`
	// PreviousWebhookSecrets are accepted beside github.app.webhook_secret
	// while the secret is rotated (the server config's list, plus the
	// comma-separated TUGBOAT_PREVIOUS_WEBHOOK_SECRETS, which a Kubernetes
	// Secret can supply). Deliveries are signed by GitHub with whichever
	// secret the App has at the moment: during a rotation, that is either.
	PreviousWebhookSecrets []string `yaml:"previous_webhook_secrets"`
	// Limits bound what unauthenticated clients get of the public port.
	Limits Limits `yaml:"limits"`
}

// Limits bound the public port. Everything reaching it is unauthenticated
// until its body's signature has been checked, so what a request may hold
// (time, connections, memory) is capped before that.
type Limits struct {
	// ReadTimeout cuts a request whose headers and body are not read in
	// full by then (default 30s): a slow body cannot hold a connection.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// MaxUnverified is how many webhook bodies may be read and checked at
	// once (default 32, each up to GitHub's 25 MB); more are answered 503,
	// which GitHub records as a failed delivery that can be redelivered.
	MaxUnverified int `yaml:"max_unverified"`
	// MaxConnections caps the public port's open connections (default 512).
	MaxConnections int `yaml:"max_connections"`
}

// Defaults of Limits.
const (
	DefaultReadTimeout    = 30 * time.Second
	DefaultMaxUnverified  = 32
	DefaultMaxConnections = 512
)

// PreviousWebhookSecretsEnv adds to previous_webhook_secrets (comma-separated).
const PreviousWebhookSecretsEnv = "TUGBOAT_PREVIOUS_WEBHOOK_SECRETS"

// load applies the environment and the defaults, reporting bad values to
// bad (never printing a secret).
func (e *Endpoint) load(bad func(format string, args ...any)) {
	for _, s := range strings.Split(os.Getenv(PreviousWebhookSecretsEnv), ",") {
		if s = strings.TrimSpace(s); s != "" {
			e.PreviousWebhookSecrets = append(e.PreviousWebhookSecrets, s)
		}
	}
	for i, s := range e.PreviousWebhookSecrets {
		if s == "" {
			bad("previous_webhook_secrets[%d] is empty", i)
		}
	}
	l := &e.Limits
	if l.ReadTimeout == 0 {
		l.ReadTimeout = DefaultReadTimeout
	}
	if l.MaxUnverified == 0 {
		l.MaxUnverified = DefaultMaxUnverified
	}
	if l.MaxConnections == 0 {
		l.MaxConnections = DefaultMaxConnections
	}
	if l.ReadTimeout < 0 || l.MaxUnverified < 0 || l.MaxConnections < 0 {
		bad("limits: read_timeout, max_unverified and max_connections must be positive")
	}
	if l.MaxConnections > 0 && l.MaxUnverified > l.MaxConnections {
		bad("limits: max_unverified (%d) exceeds max_connections (%d)", l.MaxUnverified, l.MaxConnections)
	}
}

// WebhookSecrets are the secrets a delivery may be signed with: the
// current one first, then those being rotated out.
func (s *Server) WebhookSecrets() []string {
	return append([]string{s.GitHub.App.WebhookSecret}, s.PreviousWebhookSecrets...)
}
