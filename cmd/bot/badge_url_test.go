package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tugboatops/tugboat/web"
)

// badgeConfig writes a server config with public_url and a digest key.
func badgeConfig(t *testing.T, publicURL string) (path string, key []byte) {
	t.Helper()
	dir := t.TempDir()
	key = []byte("k3y-for-badge-url-tests-0123456789")
	if err := os.WriteFile(filepath.Join(dir, "digest.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, "server.yaml")
	cfg := "digest_key_file: digest.key\n"
	if publicURL != "" {
		cfg += "public_url: " + publicURL + "\n"
	}
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, key
}

func runBot(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestBadgeURL(t *testing.T) {
	cfg, key := badgeConfig(t, "https://tugboat.example.com/")
	bk := web.BadgeKey(key)
	code, out, stderr := runBot("badge-url", "--config", cfg, "Acme/App", "staging")
	want := "https://tugboat.example.com/badges/Acme/App/staging.svg?token=" + web.BadgeToken(bk, "acme/app", "staging") + "\n"
	if code != 0 || out != want {
		t.Errorf("badge-url: %d %q %s, want %q", code, out, stderr, want)
	}
	code, out, _ = runBot("badge-url", "--config", cfg, "--json", "acme/app", "prod")
	if code != 0 || !strings.HasPrefix(out, "https://tugboat.example.com/badges/acme/app/prod.json?token="+web.BadgeToken(bk, "acme/app", "prod")) {
		t.Errorf("--json: %d %q", code, out)
	}
	code, out, _ = runBot("badge-url", "--config", cfg, "--markdown", "acme/app", "prod")
	wantMD := "[![prod](https://tugboat.example.com/badges/acme/app/prod.svg?token=" + web.BadgeToken(bk, "acme/app", "prod") +
		")](https://tugboat.example.com/status/acme/app?token=" + web.StatusToken(bk, "acme/app") + ")\n"
	if code != 0 || out != wantMD {
		t.Errorf("--markdown: %d %q, want %q", code, out, wantMD)
	}
	if strings.Contains(out, string(key)) {
		t.Errorf("the output carries the digest key")
	}
}

func TestBadgeURLBadInput(t *testing.T) {
	cfg, _ := badgeConfig(t, "https://tugboat.example.com")
	noURL, _ := badgeConfig(t, "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"acme/app", "staging"}, "--config is required"},
		{[]string{"--config", cfg, "acme", "staging"}, `"acme": want OWNER/REPO`},
		{[]string{"--config", cfg, "acme/app/x", "staging"}, "want OWNER/REPO"},
		{[]string{"--config", cfg, "acme/app", "Staging_1"}, `environment "Staging_1"`},
		{[]string{"--config", cfg, "acme/app"}, "usage: bot badge-url"},
		{[]string{"--config", noURL, "acme/app", "staging"}, "public_url is not set"},
		{[]string{"--config", filepath.Join(t.TempDir(), "missing.yaml"), "acme/app", "staging"}, "missing.yaml"},
	} {
		code, out, stderr := runBot(append([]string{"badge-url"}, c.args...)...)
		if code != 1 || out != "" || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: %d %q %q, want exit 1 and %q", c.args, code, out, stderr, c.want)
		}
	}
}
