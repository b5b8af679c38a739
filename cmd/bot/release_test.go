package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugboatops/tugboat/kube"
)

func botRun(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, nil, &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

func gitHead(t *testing.T, dir string) string {
	t.Helper()
	out, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

func commitAll(t *testing.T, dir, msg string) string {
	t.Helper()
	runGit(t, dir, "add", "-A")
	runGit(t, dir, "commit", "-q", "-m", msg)
	return gitHead(t, dir)
}

// bot rollback applies an earlier commit and pins the environment; bot
// history lists both deploys and the pin; --unpin unpins.
func TestBotRollbackAndHistory(t *testing.T) {
	isolateGit(t)
	const ns = "e2e-bot-rollback"
	repo, cfg := setup(t, ns)
	gitCheckout(t, repo)
	good := commitAll(t, repo, "blue")
	writeTree(t, repo, map[string]string{"deploy/dev/app.yaml": strings.Replace(mustRead(t, filepath.Join(repo, "deploy/dev/app.yaml")), "color: blue", "color: red", 1)})
	bad := commitAll(t, repo, "red")
	base := []string{"--repo", repo, "--config", cfg, "--env", "dev", "--repo-name", "acme/e2e-rollback"}
	if out, stderr, code := botApply(t, append(base, "--yes", "--sha", bad)...); code != 0 {
		t.Fatalf("apply: %d\n%s\n%s", code, out, stderr)
	}
	if _, _, code := botRun(t, append([]string{"rollback"}, append(base, "--to", good)...)...); code != 1 {
		t.Fatalf("rollback without --yes: exit %d", code)
	}
	out, stderr, code := botRun(t, append([]string{"rollback"}, append(base, "--to", good[:10], "--yes", "--by", "alice")...)...)
	if code != 0 || !strings.Contains(out, "dev: pinned at "+good[:7]+" by alice") || !strings.Contains(out, "result: converged") {
		t.Fatalf("rollback: exit %d\n%s\n%s", code, out, stderr)
	}
	cm, err := cluster.Client().CoreV1().ConfigMaps(ns).Get(context.Background(), "settings", metav1.GetOptions{})
	if err != nil || cm.Data["color"] != "blue" {
		t.Fatalf("configmap after rollback: %v, %v", cm.Data, err)
	}
	c, err := kube.NewCluster("local", cluster.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	set := kube.ApplySet{Repo: "acme/e2e-rollback", Env: "dev"}
	if p, err := kube.ReadPin(context.Background(), c, set); err != nil || p == nil || p.Commit != good || p.By != "alice" {
		t.Fatalf("pin = %+v, %v", p, err)
	}
	out, stderr, code = botRun(t, append([]string{"history"}, base...)...)
	if code != 0 || !strings.Contains(out, "dev (cluster local): pinned at "+good[:7]+" by alice") ||
		!strings.Contains(out, good[:7]+"  -   ?    rollback  converged  rollback, pinned here\n") || !strings.Contains(out, bad[:7]+"  -   ?    apply     converged\n") ||
		!strings.Contains(out, "WHO and promotion marks need GitHub: give --config the server config `bot serve` runs with") {
		t.Fatalf("history: exit %d\n%s\n%s", code, out, stderr)
	}
	// A local apply leaves a pinned environment alone, as the bot's own
	// writes do: nothing written.
	out, stderr, code = botApply(t, append(base, "--yes", "--sha", bad)...)
	if code != 1 || !strings.Contains(out, "dev: dev is pinned at "+good[:7]+" by alice (bot rollback): nothing applied; unpin it first") {
		t.Fatalf("apply while pinned: exit %d\n%s\n%s", code, out, stderr)
	}
	if cm, err := cluster.Client().CoreV1().ConfigMaps(ns).Get(context.Background(), "settings", metav1.GetOptions{}); err != nil || cm.Data["color"] != "blue" {
		t.Fatalf("configmap after a refused apply: %v, %v", cm.Data, err)
	}
	if out, stderr, code := botRun(t, append([]string{"rollback", "--unpin"}, base...)...); code != 0 || out != "dev: unpinned\n" {
		t.Fatalf("unpin: exit %d\n%s\n%s", code, out, stderr)
	}
	if p, err := kube.ReadPin(context.Background(), c, set); err != nil || p != nil {
		t.Fatalf("pin after --unpin = %+v, %v", p, err)
	}
}

// bot promote writes the images the source environment runs (at its
// recorded commit) into the target's kustomization in the checkout.
func TestBotPromote(t *testing.T) {
	isolateGit(t)
	dir := t.TempDir()
	repo := filepath.Join(dir, "repo")
	_, cfg := setup(t, "e2e-bot-promote-unused")
	kust := func(tag string) string {
		return "resources: [cm.yaml]\nnamespace: e2e-bot-promote\nimages:\n  - name: web # front end\n    newTag: \"" + tag + "\"\n"
	}
	writeTree(t, repo, map[string]string{
		".tugboat.yaml":                   "version: 1\nenvironments:\n  stage:\n    cluster: local\n    path: deploy/stage\n  live:\n    cluster: local\n    path: deploy/live\n    promote: {from: stage, images: true}\n",
		"deploy/stage/kustomization.yaml": kust("1.6.0"),
		"deploy/stage/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stage}\n",
		"deploy/live/kustomization.yaml":  kust("1.5.0"),
		"deploy/live/cm.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: live}\n",
	})
	if _, err := cluster.Client().CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "e2e-bot-promote"}}, metav1.CreateOptions{}); err != nil && !strings.Contains(err.Error(), "exists") {
		t.Fatal(err)
	}
	gitCheckout(t, repo)
	deployed := commitAll(t, repo, "1.6.0 in stage")
	base := []string{"--repo", repo, "--config", cfg, "--repo-name", "acme/e2e-promote"}
	if _, _, code := botRun(t, append([]string{"promote", "--from", "stage", "--to", "live"}, base...)...); code != 1 {
		t.Fatalf("promote from a stage never deployed: exit %d", code)
	}
	if out, stderr, code := botApply(t, append(base, "--env", "stage", "--yes", "--sha", deployed)...); code != 0 {
		t.Fatalf("apply stage: %d\n%s\n%s", code, out, stderr)
	}
	// stage's files move on after its deploy: the promotion takes what runs.
	writeTree(t, repo, map[string]string{"deploy/stage/kustomization.yaml": kust("1.7.0-rc")})
	out, stderr, code := botRun(t, append([]string{"promote", "--from", "stage", "--to", "live"}, base...)...)
	if code != 0 || !strings.Contains(out, "wrote deploy/live/kustomization.yaml") || !strings.Contains(out, "Promote stage → live: web 1.6.0") {
		t.Fatalf("promote: exit %d\n%s\n%s", code, out, stderr)
	}
	if got := mustRead(t, filepath.Join(repo, "deploy/live/kustomization.yaml")); got != kust("1.6.0") {
		t.Fatalf("live kustomization:\n%s", got)
	}
	out, _, code = botRun(t, append([]string{"promote", "--from", "stage", "--to", "live"}, base...)...)
	if code != 0 || !strings.HasPrefix(out, "nothing to promote") {
		t.Fatalf("second promote: %d %s", code, out)
	}
	if _, stderr, code := botRun(t, append([]string{"promote", "--from", "live", "--to", "stage"}, base...)...); code != 1 || !strings.Contains(stderr, "stage has no promote:") {
		t.Fatalf("promote to an env without promote: %d %s", code, stderr)
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
