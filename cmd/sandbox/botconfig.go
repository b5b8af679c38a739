package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// webhookPath is where the bot takes GitHub's webhooks.
const webhookPath = "/api/github/hook"

// writeServerConfig writes the bot's server config: the emulator as its
// GitHub (app id, key, webhook secret), both clusters, a digest key and the
// port to serve on. Everything is relative to the config file's directory.
func (s *Sandbox) writeServerConfig(port int) (string, error) {
	dir := s.opts.Dir
	app := s.GitHub.App()
	files := map[string][]byte{
		"app.pem":    app.PrivateKeyPEM,
		"digest.key": randomKey(),
	}
	adminPort, err := pickPort("")
	if err != nil {
		return "", err
	}
	s.AdminURL = fmt.Sprintf("http://127.0.0.1:%d", adminPort)
	var clusters strings.Builder
	for _, name := range clusterNames {
		kc, err := os.ReadFile(s.Clusters[name].Kubeconfig())
		if err != nil {
			return "", fmt.Errorf("kubeconfig of %s: %w", name, err)
		}
		files["kubeconfig-"+name] = kc
		fmt.Fprintf(&clusters, "  %s:\n    kubeconfig: kubeconfig-%s\n", name, name)
	}
	files["server.yaml"] = []byte(fmt.Sprintf(`# The sandbox's bot: GitHub is the emulator at %[1]s.
github:
  web_url: %[1]s
  v3_api_url: %[1]s/api/v3/
  v4_api_url: %[1]s/api/graphql
  app:
    integration_id: %[2]d
    webhook_secret: %[3]s
    private_key_file: app.pem
public_url: http://127.0.0.1:%[4]d
address: 127.0.0.1:%[4]d
admin_address: 127.0.0.1:%[7]d
allowed_repositories: [%[6]s]
log_level: debug
drift: {interval: %[8]s}
clusters:
%[5]sdigest_key_file: digest.key
`, s.GitHub.URL(), app.ID, app.WebhookSecret, port, clusters.String(), repoName, adminPort, driftInterval))
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return "", fmt.Errorf("write %s: %w", name, err)
		}
	}
	return filepath.Join(dir, "server.yaml"), nil
}
