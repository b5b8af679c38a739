package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugboatops/tugboat/kube"
)

// randomSuffix keeps names apart when a test runs again (-count) against
// the same cluster.
func randomSuffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// applyRepo writes a repository whose environment "dev" prunes and waits
// up to a minute, with the given files under deploy/dev, and a server
// config pointing at the test cluster.
func applyRepo(t *testing.T, files map[string]string) (repo, cfg string) {
	t.Helper()
	dir := t.TempDir()
	repo = filepath.Join(dir, "repo")
	tree := map[string]string{".tugboat.yaml": `version: 1
environments:
  dev:
    cluster: local
    path: deploy/dev
    prune: true
    wait: 60s
`}
	for name, content := range files {
		tree["deploy/dev/"+name] = content
	}
	writeTree(t, repo, tree)
	if err := os.WriteFile(filepath.Join(dir, "digest.key"), []byte("e2e-digest-key-e2e-digest-key-32"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg = filepath.Join(dir, "server.yaml")
	writeTree(t, dir, map[string]string{"server.yaml": "clusters:\n  local:\n    kubeconfig: " + cluster.Kubeconfig() +
		"\ndigest_key_file: digest.key\n"})
	return repo, cfg
}

func nsYAML(ns string) string {
	return "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + ns + "}\n"
}

func cmYAML(ns, name, color string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: " + ns + "}\ndata: {color: " + color + "}\n"
}

// planDigest runs `bot plan -o json` and returns dev's digest.
func planDigest(t *testing.T, base []string) string {
	t.Helper()
	out, stderr, code := botPlan(t, append(base, "-o", "json")...)
	var doc jsonReport
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Plans) != 1 || !strings.HasPrefix(doc.Plans[0].Digest, "sha256:") {
		t.Fatalf("bot plan: exit %d, %v\n%s\n%s", code, err, out, stderr)
	}
	return doc.Plans[0].Digest
}

func configMapColor(t *testing.T, ns, name string) string {
	t.Helper()
	cm, err := cluster.Client().CoreV1().ConfigMaps(ns).Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return cm.Data["color"]
}

// TestBotApplyMatchingDigest: the digest `bot plan` printed applies that
// plan; once the repository changes, the same digest is refused, the new
// plan shown and nothing written; the new plan's digest applies.
func TestBotApplyMatchingDigest(t *testing.T) {
	ns := "bot-digest-" + randomSuffix()
	repo, cfg := applyRepo(t, map[string]string{"app.yaml": nsYAML(ns) + "---\n" + cmYAML(ns, "settings", "blue")})
	base := []string{"--repo", repo, "--config", cfg, "--env", "dev", "--repo-name", "acme/" + ns}

	d1 := planDigest(t, base)
	out, stderr, code := botApply(t, append(base, "--digest", d1)...)
	if code != 0 || !strings.Contains(out, "## Applying dev (plan "+d1+")") || !strings.Contains(out, "result: converged") {
		t.Fatalf("matching digest: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	if got := configMapColor(t, ns, "settings"); got != "blue" {
		t.Fatalf("settings color = %q after applying the matching digest, want blue", got)
	}

	writeTree(t, repo, map[string]string{"deploy/dev/app.yaml": nsYAML(ns) + "---\n" + cmYAML(ns, "settings", "green")})
	out, stderr, code = botApply(t, append(base, "--digest", d1)...)
	if code != 1 || !strings.Contains(out, "the plan changed since it was shown") || !strings.Contains(out, "Plan: 0 to create, 1 to update") {
		t.Fatalf("digest of the previous plan: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	if got := configMapColor(t, ns, "settings"); got != "blue" {
		t.Fatalf("a refused apply changed settings to %q", got)
	}

	d2 := planDigest(t, base)
	if d2 == d1 {
		t.Fatal("the changed plan has the old digest")
	}
	if out, stderr, code := botApply(t, append(base, "--digest", d2)...); code != 0 {
		t.Fatalf("new digest: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	if got := configMapColor(t, ns, "settings"); got != "green" {
		t.Fatalf("settings color = %q after applying the new digest, want green", got)
	}
}

// TestBotApplyAllowDangerous: a plan that deletes a Namespace is refused
// without --allow-dangerous (exit 1, the namespace and the flag named,
// nothing written) and carried out with it.
func TestBotApplyAllowDangerous(t *testing.T) {
	keep, doomed := "bot-keep-"+randomSuffix(), "bot-doomed-"+randomSuffix()
	repo, cfg := applyRepo(t, map[string]string{
		"keep.yaml":   nsYAML(keep) + "---\n" + cmYAML(keep, "settings", "blue"),
		"doomed.yaml": nsYAML(doomed),
	})
	base := []string{"--repo", repo, "--config", cfg, "--env", "dev", "--repo-name", "acme/" + keep}
	if out, stderr, code := botApply(t, append(base, "--yes")...); code != 0 {
		t.Fatalf("first apply: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}

	if err := os.Remove(filepath.Join(repo, "deploy/dev/doomed.yaml")); err != nil {
		t.Fatal(err)
	}
	writeTree(t, repo, map[string]string{"deploy/dev/keep.yaml": nsYAML(keep) + "---\n" + cmYAML(keep, "settings", "green")})
	out, stderr, code := botApply(t, append(base, "--yes")...)
	if code != 1 || !strings.Contains(out+stderr, "Namespace/"+doomed) || !strings.Contains(out+stderr, "allow-dangerous") {
		t.Fatalf("dangerous delete without the flag: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	nsObj, err := cluster.Client().CoreV1().Namespaces().Get(context.Background(), doomed, metav1.GetOptions{})
	if err != nil || nsObj.DeletionTimestamp != nil {
		t.Fatalf("namespace %s deleted by a refused apply (%v)", doomed, err)
	}
	if got := configMapColor(t, keep, "settings"); got != "blue" {
		t.Fatalf("a refused apply still changed settings to %q", got)
	}

	out, stderr, code = botApply(t, append(base, "--yes", "--allow-dangerous")...)
	if code != 0 || !strings.Contains(out, "Namespace/"+doomed) || !strings.Contains(out, "result: converged") {
		t.Fatalf("--allow-dangerous: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	nsObj, err = cluster.Client().CoreV1().Namespaces().Get(context.Background(), doomed, metav1.GetOptions{})
	if err == nil && nsObj.DeletionTimestamp == nil {
		t.Fatalf("namespace %s not deleted with --allow-dangerous", doomed)
	}
	if got := configMapColor(t, keep, "settings"); got != "green" {
		t.Fatalf("settings color = %q, want green", got)
	}
}

// TestBotApplyNotConverged: an apply whose Deployment crashloops writes
// everything, then reports the failure and exits 1.
func TestBotApplyNotConverged(t *testing.T) {
	ns := "bot-crash-" + randomSuffix()
	repo, cfg := applyRepo(t, map[string]string{"app.yaml": nsYAML(ns) + `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: ` + ns + `}
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - {name: app, image: "registry.example/api:crashloop"}
`})
	out, stderr, code := botApply(t, "--repo", repo, "--config", cfg, "--env", "dev", "--repo-name", "acme/"+ns, "--yes")
	if code != 1 {
		t.Fatalf("not converged: exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	for _, want := range []string{"applied        Deployment/" + ns + "/api", "✗ Deployment/" + ns + "/api", "CrashLoopBackOff", "result: NOT converged"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if _, err := cluster.Client().AppsV1().Deployments(ns).Get(context.Background(), "api", metav1.GetOptions{}); err != nil {
		t.Fatalf("deployment not applied: %v", err)
	}
}

// ansi matches the terminal colour codes of the console log.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// TestBotApplyPlansOnce: `bot apply --yes` plans each environment once
// (-v logs one "planned" line), and the plan it prints is the plan it
// applies: its digest is the one the ApplySet parent records.
func TestBotApplyPlansOnce(t *testing.T) {
	ns := "bot-once-" + randomSuffix()
	repo, cfg := applyRepo(t, map[string]string{"app.yaml": nsYAML(ns) + "---\n" + cmYAML(ns, "settings", "blue")})
	out, stderr, code := botApply(t, "--repo", repo, "--config", cfg, "--env", "dev", "--repo-name", "acme/"+ns, "--yes", "-v")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	planned := 0
	for _, line := range strings.Split(ansi.ReplaceAllString(stderr, ""), "\n") {
		if strings.Contains(line, "INF planned") {
			planned++
		}
	}
	if planned != 1 {
		t.Errorf("bot apply planned %d times, want once:\n%s", planned, stderr)
	}
	_, rest, ok := strings.Cut(out, "## Applying dev (plan ")
	digest, _, ok2 := strings.Cut(rest, ")")
	if !ok || !ok2 || !strings.HasPrefix(digest, "sha256:") {
		t.Fatalf("no applied digest in the output:\n%s", out)
	}
	if shown, _, _ := strings.Cut(out, "## Applying"); !strings.Contains(shown, "Digest: `"+digest+"`") || !strings.Contains(shown, "Plan: 2 to create") {
		t.Errorf("the plan printed before the apply is not the plan applied (%s):\n%s", digest, out)
	}
	reg := kube.NewRegistry(nil)
	if err := reg.AddConfig("local", cluster.RESTConfig()); err != nil {
		t.Fatal(err)
	}
	kc, err := reg.Cluster("local")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := kube.ReadInventory(context.Background(), kc, kube.ApplySet{Repo: "acme/" + ns, Env: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	if rec := kube.RecordFrom(inv); rec.Digest != digest || rec.Outcome != kube.OutcomeConverged {
		t.Errorf("the parent records digest %s (%s), want the printed plan's %s (converged)", rec.Digest, rec.Outcome, digest)
	}
}

// bot apply takes the environment's apply mutex, the one the bot's own
// writes take: while another holds it, it says by whom and waits, and
// applies once it is released.
func TestBotApplyWaitsForTheApplyMutex(t *testing.T) {
	ns := "e2e-bot-mutex-" + randomSuffix()
	repo, cfg := setup(t, ns)
	const repoName = "acme/e2e-mutex"
	c, err := kube.NewCluster("local", cluster.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	m, err := kube.AcquireMutex(ctx, c, kube.ApplySet{Repo: repoName, Env: "dev"}, "the-bot", kube.MutexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		out, stderr string
		code        int
		at          time.Time
	}
	done := make(chan result, 1)
	go func() {
		out, stderr, code := botApply(t, "--repo", repo, "--config", cfg, "--env", "dev", "--repo-name", repoName, "--yes")
		done <- result{out, stderr, code, time.Now()}
	}()
	select {
	case r := <-done:
		t.Fatalf("bot apply ran while the mutex was held: exit %d\n%s\n%s", r.code, r.out, r.stderr)
	case <-time.After(5 * time.Second):
	}
	if _, err := cluster.Client().CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("written while the mutex was held: %v", err)
	}
	released := time.Now()
	if err := m.Release(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.code != 0 || !strings.Contains(r.out, "dev: waiting for the apply mutex, held by the-bot/") || !strings.Contains(r.out, "result: converged") {
		t.Fatalf("bot apply: exit %d\n%s\n%s", r.code, r.out, r.stderr)
	}
	if r.at.Before(released) {
		t.Fatalf("bot apply finished before the mutex was released")
	}
}
