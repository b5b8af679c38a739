package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
	yaml "go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/tugboatops/tugboat"
	"github.com/tugboatops/tugboat/config"
)

// github.com's APIs are on api.github.com; GitHub Enterprise Server's
// under its own host.
func TestSetupGitHubURLs(t *testing.T) {
	for in, want := range map[string]githubURLs{
		"https://github.com":            {"https://github.com", "https://api.github.com/", "https://api.github.com/graphql"},
		"https://github.com/":           {"https://github.com", "https://api.github.com/", "https://api.github.com/graphql"},
		"https://ghe.example.com":       {"https://ghe.example.com", "https://ghe.example.com/api/v3/", "https://ghe.example.com/api/graphql"},
		"https://ghe.example.com:8443/": {"https://ghe.example.com:8443", "https://ghe.example.com:8443/api/v3/", "https://ghe.example.com:8443/api/graphql"},
	} {
		got, err := githubURLsFor(in)
		if err != nil || got != want {
			t.Errorf("githubURLsFor(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"github.com", "ftp://github.com", "https://", "https://ghe.example.com?x=1"} {
		if _, err := githubURLsFor(bad); err == nil {
			t.Errorf("githubURLsFor(%q) accepted", bad)
		}
	}
	gh, _ := githubURLsFor("https://ghe.example.com")
	if got := newAppForm(gh, "acme", "s t"); got != "https://ghe.example.com/organizations/acme/settings/apps/new?state=s+t" {
		t.Errorf("organization form action %s", got)
	}
	if got := newAppForm(gh, "", "s"); got != "https://ghe.example.com/settings/apps/new?state=s" {
		t.Errorf("personal form action %s", got)
	}
	for _, bad := range []string{"tugboat.example.com", "https://tugboat.example.com/?a=b", "mailto:x@example.com"} {
		if _, err := publicURLOf(bad); err == nil {
			t.Errorf("publicURLOf(%q) accepted", bad)
		}
	}
}

// The form posts app.yaml as it is, except for the addresses (and the
// name, when given).
func TestSetupManifestIsAppYAML(t *testing.T) {
	data, name, err := appManifestJSON("https://bot.acme.example", "http://127.0.0.1:5555/callback", "")
	if err != nil {
		t.Fatal(err)
	}
	var got, want map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(tugboat.AppManifest(), &want); err != nil {
		t.Fatal(err)
	}
	if name != want["name"] {
		t.Errorf("name %q, want app.yaml's %q", name, want["name"])
	}
	if got["url"] != "https://bot.acme.example" || got["redirect_url"] != "http://127.0.0.1:5555/callback" ||
		got["hook_attributes"].(map[string]any)["url"] != "https://bot.acme.example/api/github/hook" {
		t.Errorf("addresses not filled in: url %v, redirect_url %v, hook_attributes %v", got["url"], got["redirect_url"], got["hook_attributes"])
	}
	for _, key := range []string{"default_permissions", "default_events", "public", "description", "name"} {
		g, _ := json.Marshal(got[key])
		w, _ := json.Marshal(want[key])
		if !bytes.Equal(g, w) {
			t.Errorf("%s = %s, want app.yaml's %s", key, g, w)
		}
	}
	if _, name, _ := appManifestJSON("https://x.example", "http://127.0.0.1:1/callback", "acme-tugboat"); name != "acme-tugboat" {
		t.Errorf("--name not applied: %q", name)
	}
}

// testAppConfig is what a conversion returns, with a real key.
func testAppConfig(t *testing.T) *github.AppConfig {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	return &github.AppConfig{
		ID: github.Int64(4242), Slug: github.String("tugboat"), Name: github.String("tugboat"),
		PEM: github.String(string(pemKey)), WebhookSecret: github.String("whsec-" + strings.Repeat("x", 20)),
		HTMLURL: github.String("https://github.com/apps/tugboat"),
	}
}

// What setup writes is what `bot serve` loads: its server.yaml, with the
// webhook secret from the file in GITHUB_APP_WEBHOOK_SECRET, passes
// config.LoadServerApp with the App's id, key and the digest key.
func TestSetupFilesLoadAsServerConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "app")
	app := testAppConfig(t)
	gh, _ := githubURLsFor("https://ghe.example.com")
	if err := writeAppFiles(dir, app, gh, "https://tugboat.example.com", false); err != nil {
		t.Fatal(err)
	}
	secret, err := os.ReadFile(filepath.Join(dir, setupSecretFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GITHUB_APP_WEBHOOK_SECRET", string(secret))
	cfg, err := config.LoadServerApp(filepath.Join(dir, setupConfigFile))
	if err != nil {
		t.Fatalf("bot serve would refuse setup's config: %v", err)
	}
	a := cfg.GitHub
	if a.App.IntegrationID != 4242 || a.App.PrivateKey != app.GetPEM() || a.App.WebhookSecret != app.GetWebhookSecret() ||
		a.V3APIURL != "https://ghe.example.com/api/v3/" || a.V4APIURL != "https://ghe.example.com/api/graphql" || cfg.PublicURL != "https://tugboat.example.com" {
		t.Errorf("loaded config: id %d, key from the file %t, secret from the env %t, v3 %s, v4 %s, public %s",
			a.App.IntegrationID, a.App.PrivateKey == app.GetPEM(), a.App.WebhookSecret == app.GetWebhookSecret(), a.V3APIURL, a.V4APIURL, cfg.PublicURL)
	}
	if key, err := config.ReadDigestKey(cfg.DigestKeyFile); err != nil || len(key) != config.DigestKeySize {
		t.Errorf("digest key: %d bytes, %v", len(key), err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, setupConfigFile)); bytes.Contains(data, secret) {
		t.Errorf("server.yaml holds the webhook secret")
	}
	// Not again, unless forced.
	if err := checkSetupDir(dir, false); err == nil || !strings.Contains(err.Error(), "does not overwrite") {
		t.Errorf("checkSetupDir after a write: %v", err)
	}
	if err := writeAppFiles(dir, app, gh, "https://tugboat.example.com", false); err == nil {
		t.Errorf("writeAppFiles overwrote without force")
	}
	if err := writeAppFiles(dir, app, gh, "https://tugboat.example.com", true); err != nil {
		t.Errorf("writeAppFiles with force: %v", err)
	}
}

// The Secret setup's next steps create is the one deploy/ reads — same
// name, namespace and keys, mounted where the printed server config
// points — and the printed config is one the server accepts.
func TestSetupMatchesDeploy(t *testing.T) {
	var dep appsv1.Deployment
	var namespace string
	for _, doc := range strings.Split(kustomize(t, filepath.Join(repoRoot, "deploy/overlays/example")), "\n---\n") {
		var head struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		if err := sigsyaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatal(err)
		}
		if head.Kind == "Deployment" {
			if err := sigsyaml.Unmarshal([]byte(doc), &dep); err != nil {
				t.Fatal(err)
			}
			namespace = head.Metadata.Namespace
		}
	}
	if namespace != deployNamespace {
		t.Errorf("deploy/ runs in %q, setup says %q", namespace, deployNamespace)
	}
	keys := map[string]string{} // Secret key -> where it goes
	spec := dep.Spec.Template.Spec
	mounts := map[string]string{}
	for _, m := range spec.Containers[0].VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	for _, v := range spec.Volumes {
		if v.Secret == nil {
			continue
		}
		if v.Secret.SecretName != deploySecretName {
			t.Errorf("volume %s mounts Secret %q, setup creates %q", v.Name, v.Secret.SecretName, deploySecretName)
		}
		for _, item := range v.Secret.Items {
			keys[item.Key] = mounts[v.Name] + "/" + item.Path
		}
	}
	for _, e := range spec.Containers[0].Env {
		if r := e.ValueFrom; r != nil && r.SecretKeyRef != nil && !(r.SecretKeyRef.Optional != nil && *r.SecretKeyRef.Optional) {
			if r.SecretKeyRef.Name != deploySecretName {
				t.Errorf("env %s from Secret %q, setup creates %q", e.Name, r.SecretKeyRef.Name, deploySecretName)
			}
			keys[r.SecretKeyRef.Key] = "$" + e.Name
		}
	}
	want := map[string]string{
		setupKeyFile:    deploySecretDir + "/" + setupKeyFile,
		setupDigestFile: deploySecretDir + "/" + setupDigestFile,
		setupSecretFile: "$GITHUB_APP_WEBHOOK_SECRET",
	}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("deploy/ reads the Secret's keys as %v; setup writes %v", keys, want)
	}

	gh, _ := githubURLsFor("https://github.com")
	snippet := deployServerConfig(testAppConfig(t), gh, "https://tugboat.example.com")
	cfg, err := config.ParseServer([]byte(snippet), "snippet")
	if err != nil {
		t.Fatalf("the printed server config does not parse: %v\n%s", err, snippet)
	}
	overlay, err := config.ParseServer(must(os.ReadFile(filepath.Join(repoRoot, "deploy/overlays/example/server.yaml"))), "server.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.GitHub.PrivateKeyFile != overlay.GitHub.PrivateKeyFile || cfg.DigestKeyFile != overlay.DigestKeyFile {
		t.Errorf("printed config's files %s, %s; the overlay's %s, %s",
			cfg.GitHub.PrivateKeyFile, cfg.DigestKeyFile, overlay.GitHub.PrivateKeyFile, overlay.DigestKeyFile)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// The code is a one-time credential: an exchange that failed on the way
// (not GitHub's answer) says so without it.
func TestSetupExchangeErrorHidesCode(t *testing.T) {
	code := "0123456789abcdef0123"
	err := exchangeError(&url.Error{Op: "Post", URL: "https://ghe.example.com/api/v3/app-manifests/" + code + "/conversions",
		Err: errors.New("connection refused")}, code)
	if strings.Contains(err.Error(), code) || !strings.Contains(err.Error(), "app-manifests/{code}/conversions") {
		t.Errorf("error %q shows the code or hides the call", err)
	}
}
