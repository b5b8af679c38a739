package config

import (
	"os"
	"path/filepath"
	"reflect"
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
	if got := s.Clusters["staging"]; !reflect.DeepEqual(got, Cluster{Kubeconfig: "kube/staging.yaml", Context: "staging-admin"}) {
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

func TestClusterRepositories(t *testing.T) {
	src := `clusters:
  prod:
    kubeconfig: p
    repositories: ["acme/*", other/shop-config]
  staging: {kubeconfig: s}
  lab:
    kubeconfig: l
    repositories: [ACME/Lab-*]
`
	s, err := ParseServer([]byte(src), "bot.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cluster, repo string
		want          bool
	}{
		{"prod", "acme/shop", true},
		{"prod", "Acme/Shop", true},
		{"prod", "other/shop-config", true},
		{"prod", "other/shop", false},
		{"prod", "evil/acme", false},
		{"staging", "anyone/at-all", true},
		{"lab", "acme/lab-1", true},
		{"lab", "acme/shop", false},
		// Unknown clusters are reported per environment when planning.
		{"nowhere", "acme/shop", true},
	} {
		if got := s.ClusterAllows(tc.cluster, tc.repo); got != tc.want {
			t.Errorf("ClusterAllows(%s, %s) = %v, want %v", tc.cluster, tc.repo, got, tc.want)
		}
	}
}

func TestClusterRepositoriesErrors(t *testing.T) {
	src := `clusters:
  prod:
    kubeconfig: p
    repositories:
      - acme/*
      - acme
      - "acme/[a-"
      - acme/shop/extra
  staging:
    kubeconfig: s
    repositories: []
  dev:
    kubeconfig: d
    repositories: acme/*
`
	_, err := ParseServer([]byte(src), "bot.yaml")
	if err == nil {
		t.Fatal("accepted")
	}
	want := []string{
		`bot.yaml:6: clusters.prod.repositories[1]: "acme": want owner/name`,
		`bot.yaml:7: clusters.prod.repositories[2]: "acme/[a-": syntax error in pattern`,
		`bot.yaml:8: clusters.prod.repositories[3]: "acme/shop/extra": want owner/name`,
		`bot.yaml:11: clusters.staging.repositories: empty list`,
		`bot.yaml:14: cannot unmarshal !!str`,
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(got), len(want), err)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d:\n got %s\nwant %s…", i, got[i], want[i])
		}
	}
}

func TestCheckClusters(t *testing.T) {
	srv, err := ParseServer([]byte("clusters:\n  prod: {kubeconfig: p, repositories: [acme/prod-*]}\n  staging: {kubeconfig: s}\n"), "bot.yaml")
	if err != nil {
		t.Fatal(err)
	}
	repo := `version: 1
environments:
  staging: {cluster: staging, path: s}
  prod:
    path: p
    cluster: prod
  qa:
    cluster: qa
    path: q
`
	cfg, err := ParseRepo([]byte(repo), ".tugboat.yaml")
	if err != nil {
		t.Fatal(err)
	}
	errs := CheckClusters(cfg, func(c string) bool { return srv.ClusterAllows(c, "acme/shop") })
	// qa's cluster is unknown: not a restriction, the plan reports it.
	want := []string{
		`.tugboat.yaml:6: environments.prod.cluster: this repository may not use cluster "prod"`,
	}
	got := strings.Split(errs.Error(), "\n")
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(got), len(want), errs)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d:\n got %s\nwant %s…", i, got[i], want[i])
		}
	}
	if errs := CheckClusters(cfg, func(c string) bool { return srv.ClusterAllows(c, "acme/prod-eu") || c == "qa" }); errs != nil {
		t.Errorf("everything allowed, got %v", errs)
	}
}
