package config

import (
	"os"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// Web configures the badges and status pages (server config `web:`).
type Web struct {
	// Refresh is how often the pages' snapshot is read again from the
	// clusters (default DefaultWebRefresh). Requests never reach a cluster.
	Refresh time.Duration `yaml:"refresh"`
	// StatusToken, when set, opens GET /status (every repository's
	// environments) to requests that carry it (?token= or a Bearer
	// header). Without it, and without an admin listener, /status answers
	// 404. TUGBOAT_STATUS_TOKEN overrides it.
	StatusToken string `yaml:"status_token"`
}

// DefaultWebRefresh is Web.Refresh's default.
const DefaultWebRefresh = 15 * time.Second

// StatusTokenEnv names the environment variable that overrides
// web.status_token (a token belongs in a secret, not in the config file).
const StatusTokenEnv = "TUGBOAT_STATUS_TOKEN"

// minStatusToken refuses a token short enough to guess.
const minStatusToken = 16

// RefreshInterval is Refresh or its default.
func (w Web) RefreshInterval() time.Duration {
	if w.Refresh <= 0 {
		return DefaultWebRefresh
	}
	return w.Refresh
}

// statusTokenFromEnv applies StatusTokenEnv.
func (w *Web) statusTokenFromEnv() {
	if v := os.Getenv(StatusTokenEnv); v != "" {
		w.StatusToken = v
	}
}

// checkWeb checks web:, at the line of each bad key.
func (p *problems) checkWeb(s *Server, root *yaml.Node) {
	n := lookup(root, "web")
	line := func(key string) int {
		if n == nil {
			return 0
		}
		return keyLine(n, key)
	}
	if s.Web.Refresh < 0 {
		p.add(line("refresh"), "web.refresh: %s is negative", s.Web.Refresh)
	} else if s.Web.Refresh > 0 && s.Web.Refresh < time.Second {
		p.add(line("refresh"), "web.refresh: %s is too often; want at least 1s", s.Web.Refresh)
	}
	if s.Web.StatusToken != "" && len(s.Web.StatusToken) < minStatusToken {
		p.add(line("status_token"), "web.status_token: too short to be secret; want at least %d characters (head -c 24 /dev/urandom | base64)", minStatusToken)
	}
}
