package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/tugboatops/tugboat/config"
)

// What `bot setup` writes into its directory. The three secret files are
// named after the keys of the Secret "tugboat" that deploy/ reads
// (deploy/base/deployment.yaml), so `kubectl create secret generic
// --from-file=` of each makes that Secret as it is.
const (
	setupKeyFile     = "private-key.pem" // the App's private key
	setupSecretFile  = "webhook-secret"  // the webhook secret (GITHUB_APP_WEBHOOK_SECRET)
	setupDigestFile  = "digest.key"      // the plan digest's key
	setupConfigFile  = "server.yaml"     // a server config using them
	deploySecretName = "tugboat"
	deployNamespace  = "tugboat-system"
	// deploySecretDir is where the Deployment mounts the Secret's files.
	deploySecretDir = "/etc/tugboat/secret"
)

// setupFiles are the files bot setup writes, in the order it lists them.
var setupFiles = []string{setupKeyFile, setupSecretFile, setupDigestFile, setupConfigFile}

// checkSetupDir refuses to go on when one of the files exists, unless
// force: they hold an App's credentials, which GitHub hands out once.
func checkSetupDir(dir string, force bool) error {
	if force {
		return nil
	}
	for _, name := range setupFiles {
		path := filepath.Join(dir, name)
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("%s exists: bot setup does not overwrite an App's credentials (move it away, choose another --dir, or pass --force)", path)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("check %s: %w", path, err)
		}
	}
	return nil
}

// writeAppFiles writes the App's credentials, a new digest key and a
// server config into dir.
func writeAppFiles(dir string, app *github.AppConfig, gh githubURLs, publicURL string, force bool) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	digest := make([]byte, config.DigestKeySize)
	if _, err := rand.Read(digest); err != nil {
		return fmt.Errorf("make a digest key: %w", err)
	}
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{setupKeyFile, []byte(app.GetPEM()), 0o600},
		// No newline: the file becomes an environment variable whose every
		// byte is the secret.
		{setupSecretFile, []byte(app.GetWebhookSecret()), 0o600},
		{setupDigestFile, digest, 0o600},
		{setupConfigFile, []byte(localServerConfig(app, gh, publicURL)), 0o644},
	}
	for _, f := range files {
		if err := writeNewFile(filepath.Join(dir, f.name), f.data, f.mode, force); err != nil {
			return err
		}
	}
	return nil
}

// writeNewFile writes data to path through a temporary file, so a reader
// never sees half of it: linked into place (failing if path exists) or,
// with force, renamed over it.
func writeNewFile(path string, data []byte, mode os.FileMode, force bool) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if force {
		err = os.Rename(tmp.Name(), path)
	} else {
		err = os.Link(tmp.Name(), path)
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists: bot setup does not overwrite an App's credentials (pass --force)", path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// serverConfigGitHub is the server config's part about the App: the keys
// config.LoadServerApp reads, with the key and digest files at keyFile
// and digestFile. The webhook secret is never in it: it comes from
// GITHUB_APP_WEBHOOK_SECRET.
func serverConfigGitHub(app *github.AppConfig, gh githubURLs, publicURL, keyFile, digestFile string) string {
	return fmt.Sprintf(`github:
  web_url: %s
  v3_api_url: %s
  v4_api_url: %s
  app:
    integration_id: %d # the GitHub App %q
    private_key_file: %s
digest_key_file: %s
public_url: %s
`, gh.Web, gh.V3, gh.V4, app.GetID(), app.GetSlug(), keyFile, digestFile, publicURL)
}

// localServerConfig is server.yaml in setup's directory: usable as it is
// by `bot serve` on this machine (relative paths are taken from the
// file's directory), once clusters are added.
func localServerConfig(app *github.AppConfig, gh githubURLs, publicURL string) string {
	return `# tugboat's server config, written by ` + "`bot setup`" + `. No secret is in it:
# the private key and the digest key are the files beside it, and the
# webhook secret is read from GITHUB_APP_WEBHOOK_SECRET (the file
# webhook-secret). Add the clusters the repositories' environments name:
#   clusters:
#     prod: {kubeconfig: /path/to/kubeconfig}
` + serverConfigGitHub(app, gh, publicURL, setupKeyFile, setupDigestFile)
}

// deployServerConfig is the same part for deploy/'s overlay, whose
// Deployment mounts the Secret's files at deploySecretDir.
func deployServerConfig(app *github.AppConfig, gh githubURLs, publicURL string) string {
	return serverConfigGitHub(app, gh, publicURL, deploySecretDir+"/"+setupKeyFile, deploySecretDir+"/"+setupDigestFile)
}

// printNextSteps tells the person what bot setup did and what to do next.
// It prints paths, never a secret.
func printNextSteps(w io.Writer, app *github.AppConfig, dir string, gh githubURLs, publicURL string) {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	path := func(name string) string { return shellQuote(filepath.Join(dir, name)) }
	fmt.Fprintf(w, `
Registered the GitHub App %q (id %d, owned by %s): %s

Written to %s (never commit these files):
  %-16s the App's private key (mode 0600)
  %-16s the webhook secret (mode 0600)
  %-16s a new key of the plan digests, shared by every replica (mode 0600)
  %-16s a server config using them

Next steps:

1. Install the App on the repositories tugboat should serve:
     %s/installations/new

2. Create the Secret the Deployment reads:
     kubectl create namespace %s
     kubectl -n %s create secret generic %s \
       --from-file=%s \
       --from-file=%s \
       --from-file=%s

3. In your overlay's server.yaml (a copy of deploy/overlays/example), set:
%s
   and list your clusters (clusters:) and repositories (allowed_repositories:).

4. Deploy:
     kubectl apply -k deploy/overlays/example

5. Check that %s/readyz answers 200, then open a pull request in a repository
   where the App is installed.

To try it on this machine first (add clusters: to the config):
  GITHUB_APP_WEBHOOK_SECRET="$(cat %s)" bot serve --config %s
`,
		app.GetName(), app.GetID(), app.GetOwner().GetLogin(), app.GetHTMLURL(),
		dir, setupKeyFile, setupSecretFile, setupDigestFile, setupConfigFile,
		app.GetHTMLURL(),
		deployNamespace, deployNamespace, deploySecretName,
		path(setupKeyFile), path(setupSecretFile), path(setupDigestFile),
		indent(deployServerConfig(app, gh, publicURL), "     "),
		publicURL,
		path(setupSecretFile), path(setupConfigFile))
}

// indent prefixes every line of s.
func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return prefix + strings.Join(lines, "\n"+prefix)
}

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
