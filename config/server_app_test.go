package config

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeAppConfig(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(filepath.Join(dir, "app.pem"), pemKey, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "digest.key"), []byte("0123456789abcdef0123456789abcdef"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "short.key"), []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "server.yaml")
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

const appConfig = `github:
  v3_api_url: http://127.0.0.1:9/api/v3
  app:
    integration_id: 42
    webhook_secret: s3cr3t-hook
    private_key_file: app.pem
address: 127.0.0.1:9090
allowed_repositories: [acme/*, other/one]
allow_fork_plans: true
queue: {size: 10, workers: 2}
clusters:
  staging: {kubeconfig: kc}
digest_key_file: digest.key
`

func TestLoadServerApp(t *testing.T) {
	file := writeAppConfig(t, appConfig)
	s, err := LoadServerApp(file)
	if err != nil {
		t.Fatalf("LoadServerApp: %v", err)
	}
	gh := s.GitHub
	if gh.App.IntegrationID != 42 || gh.App.WebhookSecret != "s3cr3t-hook" {
		t.Errorf("app = %d/%q", gh.App.IntegrationID, gh.App.WebhookSecret)
	}
	if !strings.Contains(gh.App.PrivateKey, "RSA PRIVATE KEY") {
		t.Error("the private key file was not read into github.app.private_key")
	}
	if gh.V3APIURL != "http://127.0.0.1:9/api/v3/" || gh.V4APIURL != "https://api.github.com/graphql" {
		t.Errorf("API URLs = %q, %q", gh.V3APIURL, gh.V4APIURL)
	}
	if s.Address != "127.0.0.1:9090" || s.Queue.Size != 10 || s.Queue.Workers != 2 || !s.AllowForkPlans || s.LogLevel != "info" {
		t.Errorf("settings = %+v", s.App)
	}
	if s.Clusters["staging"].Kubeconfig != filepath.Join(filepath.Dir(file), "kc") {
		t.Errorf("cluster registry lost: %+v", s.Clusters)
	}
	for repo, want := range map[string]bool{"acme/web": true, "Acme/Web": true, "other/one": true, "other/two": false, "evil/acme": false} {
		if got := s.Allowed(repo); got != want {
			t.Errorf("Allowed(%s) = %v, want %v", repo, got, want)
		}
	}
}

func TestLoadServerAppEnvironmentOverrides(t *testing.T) {
	file := writeAppConfig(t, strings.Replace(appConfig, "webhook_secret: s3cr3t-hook", "webhook_secret: from-file", 1))
	t.Setenv("GITHUB_APP_WEBHOOK_SECRET", "from-env")
	t.Setenv("GITHUB_APP_INTEGRATION_ID", "7")
	s, err := LoadServerApp(file)
	if err != nil {
		t.Fatal(err)
	}
	if s.GitHub.App.WebhookSecret != "from-env" || s.GitHub.App.IntegrationID != 7 {
		t.Errorf("environment did not override the file: %q %d", s.GitHub.App.WebhookSecret, s.GitHub.App.IntegrationID)
	}
}

func TestLoadServerAppRefuses(t *testing.T) {
	cases := map[string]struct{ from, to, want string }{
		"no webhook secret":  {"    webhook_secret: s3cr3t-hook\n", "", "github.app.webhook_secret (or GITHUB_APP_WEBHOOK_SECRET) is not set"},
		"unreadable key":     {"private_key_file: app.pem", "private_key_file: missing.pem", "github.app.private_key_file: cannot read the app's private key"},
		"no key":             {"    private_key_file: app.pem\n", "", "private key is required"},
		"garbage key":        {"private_key_file: app.pem", "private_key: not-a-key-XYZZY", "not a PEM-encoded RSA private key"},
		"unknown github key": {"    integration_id: 42\n", "    integration_id: 42\n    secret_key: x\n", "server.yaml:5: github.app.secret_key is not a known key"},
		"bad repo pattern":   {"[acme/*, other/one]", "[acme]", `allowed_repositories: "acme"`},
		"bad log level":      {"allow_fork_plans: true", "log_level: loud", `log_level "loud"`},
		"no digest key":      {"digest_key_file: digest.key\n", "", "digest_key_file (or TUGBOAT_DIGEST_KEY_FILE) is not set: the plan digest's key must be shared by every replica; create one with `head -c 32 /dev/urandom > digest.key"},
		"missing digest key": {"digest_key_file: digest.key", "digest_key_file: nope.key", "digest_key_file: digest key: open "},
		"short digest key":   {"digest_key_file: digest.key", "digest_key_file: short.key", "10 bytes is too short (want at least 16)"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			body := strings.Replace(appConfig, c.from, c.to, 1)
			if body == appConfig {
				t.Fatalf("case does not change the config")
			}
			_, err := LoadServerApp(writeAppConfig(t, body))
			if err == nil {
				t.Fatal("LoadServerApp accepted it")
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Errorf("error is %T, want config.Errors", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %q, want it to contain %q", err, c.want)
			}
			for _, secret := range []string{"s3cr3t-hook", "XYZZY", "PRIVATE KEY", "0123456789"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error reveals %q: %s", secret, err)
				}
			}
		})
	}
}

// The digest key file may come from TUGBOAT_DIGEST_KEY_FILE (a mounted
// secret), over the config's digest_key_file.
func TestLoadServerAppDigestKeyFromEnvironment(t *testing.T) {
	file := writeAppConfig(t, strings.Replace(appConfig, "digest_key_file: digest.key\n", "", 1))
	if _, err := LoadServerApp(file); err == nil || !strings.Contains(err.Error(), "digest_key_file (or TUGBOAT_DIGEST_KEY_FILE) is not set") {
		t.Fatalf("without a key: %v", err)
	}
	key := filepath.Join(filepath.Dir(file), "digest.key")
	t.Setenv(DigestKeyFileEnv, key)
	s, err := LoadServerApp(file)
	if err != nil {
		t.Fatal(err)
	}
	if s.DigestKeyFile != key {
		t.Errorf("DigestKeyFile = %q, want %q", s.DigestKeyFile, key)
	}
	t.Setenv(DigestKeyFileEnv, filepath.Join(filepath.Dir(file), "gone.key"))
	if _, err := LoadServerApp(writeAppConfig(t, appConfig)); err == nil || !strings.Contains(err.Error(), "gone.key") {
		t.Errorf("the environment's missing file was not reported over the config's: %v", err)
	}
}

// The endpoint's settings load with their defaults, previous webhook
// secrets come from the file and the environment, and bad limits are
// refused by name.
func TestLoadServerAppEndpoint(t *testing.T) {
	s, err := LoadServerApp(writeAppConfig(t, appConfig))
	if err != nil {
		t.Fatal(err)
	}
	if s.AdminAddress != "" || s.Limits != (Limits{ReadTimeout: DefaultReadTimeout, MaxUnverified: DefaultMaxUnverified, MaxConnections: DefaultMaxConnections}) {
		t.Errorf("defaults: admin %q, limits %+v", s.AdminAddress, s.Limits)
	}
	if got := s.WebhookSecrets(); len(got) != 1 || got[0] != "s3cr3t-hook" {
		t.Errorf("WebhookSecrets = %q", got)
	}

	t.Setenv(PreviousWebhookSecretsEnv, "from-env-1, from-env-2")
	s, err = LoadServerApp(writeAppConfig(t, appConfig+`admin_address: 127.0.0.1:9091
previous_webhook_secrets: [old-hook]
limits: {read_timeout: 2s, max_unverified: 3, max_connections: 10}
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.WebhookSecrets(), " "); got != "s3cr3t-hook old-hook from-env-1 from-env-2" {
		t.Errorf("WebhookSecrets = %q", got)
	}
	if s.AdminAddress != "127.0.0.1:9091" || s.Limits.ReadTimeout.String() != "2s" || s.Limits.MaxUnverified != 3 || s.Limits.MaxConnections != 10 {
		t.Errorf("endpoint = %+v", s.Endpoint)
	}

	t.Setenv(PreviousWebhookSecretsEnv, "")
	_, err = LoadServerApp(writeAppConfig(t, appConfig+"limits: {max_unverified: 20, max_connections: 10}\n"))
	if err == nil || !strings.Contains(err.Error(), "max_unverified (20) exceeds max_connections (10)") {
		t.Errorf("bad limits: %v", err)
	}
}
