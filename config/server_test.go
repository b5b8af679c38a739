package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseServer(t *testing.T) {
	src := `clusters:
  staging:
    kubeconfig: kube/staging.yaml
    context: staging-admin
  prod:
    in_cluster: true
digest_key_file: /etc/tugboat/digest.key
`
	s, err := ParseServer([]byte(src), "bot.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Clusters["staging"]; got != (Cluster{Kubeconfig: "kube/staging.yaml", Context: "staging-admin"}) {
		t.Errorf("staging = %+v", got)
	}
	if !s.Clusters["prod"].InCluster || s.DigestKeyFile != "/etc/tugboat/digest.key" {
		t.Errorf("got %+v", s)
	}
}

func TestParseServerErrors(t *testing.T) {
	src := `clusters:
  staging:
    kubeconfig: a
    contxt: b
  prod:
    in_cluster: true
    kubeconfig: x
  dev:
    context: only
digest_keyfile: k
`
	_, err := ParseServer([]byte(src), "bot.yaml")
	if err == nil {
		t.Fatal("accepted")
	}
	want := []string{
		"bot.yaml:4: field contxt not found in type config.Cluster",
		"bot.yaml:5: clusters.prod: in_cluster cannot be combined with kubeconfig or context",
		"bot.yaml:8: clusters.dev: want kubeconfig: PATH (and optionally context: NAME) or in_cluster: true",
		"bot.yaml:10: field digest_keyfile not found in type config.Server",
	}
	if got := err.Error(); got != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
}

func TestLoadServerResolvesRelativePaths(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bot.yaml")
	if err := os.WriteFile(p, []byte("clusters:\n  a: {kubeconfig: kc}\n  b: {kubeconfig: /abs/kc}\ndigest_key_file: key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := LoadServer(p)
	if err != nil {
		t.Fatal(err)
	}
	if s.Clusters["a"].Kubeconfig != filepath.Join(dir, "kc") || s.Clusters["b"].Kubeconfig != "/abs/kc" || s.DigestKeyFile != filepath.Join(dir, "key") {
		t.Errorf("got %+v", s)
	}
	if _, err := LoadServer(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "read server config") {
		t.Errorf("missing file: %v", err)
	}
}
