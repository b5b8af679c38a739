package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/planner"
)

const secretMarker = "e2e-marker-7f3a9c"

// writeTree writes files (name → content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// botPlan runs `bot plan` as a separate process and returns its stdout,
// stderr and exit status.
func botPlan(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"plan"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// setup writes a repository with environments "dev" (a Namespace, a
// ConfigMap and a Secret) and "broken" (an object in a namespace that
// does not exist), and a server config pointing at the test cluster.
func setup(t *testing.T, ns string) (repo, cfg string) {
	t.Helper()
	dir := t.TempDir()
	repo = filepath.Join(dir, "repo")
	writeTree(t, repo, map[string]string{
		".tugboat.yaml": `version: 1
environments:
  dev:
    cluster: local
    path: deploy/dev
    namespace: ` + ns + `
  broken:
    cluster: local
    path: deploy/broken
`,
		"deploy/dev/app.yaml": `apiVersion: v1
kind: Namespace
metadata: {name: ` + ns + `}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: ` + ns + `}
data: {color: blue}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: ` + ns + `}
stringData: {password: ` + secretMarker + `}
`,
		"deploy/broken/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: no-such-namespace-e2e}\n",
	})
	key := filepath.Join(dir, "digest.key")
	if err := os.WriteFile(key, []byte("e2e-digest-key-e2e-digest-key-32"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg = filepath.Join(dir, "server.yaml")
	writeTree(t, dir, map[string]string{"server.yaml": "clusters:\n  local:\n    kubeconfig: " + cluster.Kubeconfig() +
		"\ndigest_key_file: digest.key\n"})
	return repo, cfg
}

func TestBotPlanEndToEnd(t *testing.T) {
	repo, cfg := setup(t, "e2e-bot-plan")

	first, stderr1, code := botPlan(t, "--repo", repo, "--config", cfg, "--env", "dev", "-o", "json", "--repo-name", "acme/e2e")
	if code != 2 {
		t.Fatalf("exit %d, want 2 (changes); stderr:\n%s\nstdout:\n%s", code, stderr1, first)
	}
	var doc jsonReport
	if err := json.Unmarshal([]byte(first), &doc); err != nil {
		t.Fatalf("output is not the JSON document: %v\n%s", err, first)
	}
	if doc.Version != 1 || len(doc.Plans) != 1 || doc.Plans[0].Counts != (planner.Counts{Create: 3}) {
		t.Fatalf("unexpected plan:\n%s", first)
	}
	// The order is the plan's, not the file's (Namespace, ConfigMap,
	// Secret there): Namespaces first, then Secrets before ConfigMaps.
	var order []string
	for _, c := range doc.Plans[0].Changes {
		order = append(order, c.Kind+"/"+c.Name+"@"+c.Source.File)
	}
	if got, want := strings.Join(order, " "), "Namespace/e2e-bot-plan@deploy/dev/app.yaml Secret/creds@deploy/dev/app.yaml ConfigMap/settings@deploy/dev/app.yaml"; got != want {
		t.Errorf("changes in order %s, want %s", got, want)
	}

	// A second process (reading the same key file) computes the same digest.
	second, _, code := botPlan(t, "--repo", repo, "--config", cfg, "--env", "dev", "-o", "json", "--repo-name", "acme/e2e")
	var doc2 jsonReport
	if err := json.Unmarshal([]byte(second), &doc2); err != nil || code != 2 {
		t.Fatalf("second run: exit %d, %v", code, err)
	}
	if doc.Plans[0].Digest != doc2.Plans[0].Digest || !strings.HasPrefix(doc.Plans[0].Digest, "sha256:") {
		t.Errorf("digests differ across processes: %s vs %s", doc.Plans[0].Digest, doc2.Plans[0].Digest)
	}

	md, stderr2, code := botPlan(t, "--repo", repo, "--config", cfg, "--env", "dev", "--repo-name", "acme/e2e", "-v")
	if code != 2 || !strings.Contains(md, "## dev (cluster local)") || !strings.Contains(md, "password: <secret, added>") {
		t.Errorf("markdown run: exit %d\n%s", code, md)
	}
	for where, text := range map[string]string{"json": first, "markdown": md, "stderr": stderr1 + stderr2} {
		for _, v := range []string{secretMarker, base64.StdEncoding.EncodeToString([]byte(secretMarker))} {
			if strings.Contains(text, v) {
				t.Errorf("%s output contains the Secret value", where)
			}
		}
	}
}

func TestBotPlanExitCodes(t *testing.T) {
	repo, cfg := setup(t, "e2e-exit-codes")

	out, stderr, code := botPlan(t, "--repo", repo, "--config", cfg, "--env", "broken", "-o", "json")
	if code != 1 || !strings.Contains(out, "no-such-namespace-e2e") {
		t.Errorf("a problem: exit %d, want 1\n%s\n%s", code, out, stderr)
	}
	if _, _, code := botPlan(t, "--repo", repo, "--config", cfg, "--all", "-o", "json"); code != 1 {
		t.Errorf("--all with one broken environment: exit %d, want 1", code)
	}
	if _, stderr, code := botPlan(t, "--repo", repo, "--config", cfg); code != 1 || !strings.Contains(stderr, "--env NAME and --all") {
		t.Errorf("neither --env nor --all: exit %d\n%s", code, stderr)
	}

	// Deploy dev as the applier would, then plan again: nothing to do.
	applyDev(t, repo, "acme/e2e-exit")
	out, stderr, code = botPlan(t, "--repo", repo, "--config", cfg, "--env", "dev", "--repo-name", "acme/e2e-exit")
	if code != 0 || !strings.Contains(out, "Plan: 0 to create, 0 to update, 0 to delete, 3 unchanged.") {
		t.Errorf("nothing to do: exit %d, want 0\n%s\n%s", code, out, stderr)
	}
}

// applyDev applies the dev environment's objects exactly as the applier
// will: PrepareForApply, field manager tugboat, the repository's labels.
func applyDev(t *testing.T, repo, repoName string) {
	t.Helper()
	kc, err := kube.NewCluster("local", cluster.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	objs, problems := planner.RenderInProcess(os.DirFS(repo), "deploy/dev", planner.DefaultLimits())
	if len(problems) > 0 {
		t.Fatalf("render: %+v", problems)
	}
	labels := kube.ApplySet{Repo: repoName, Env: "dev"}.MemberLabels()
	force := true
	for _, o := range objs {
		body, err := planner.PrepareForApply(o.Obj, labels, nil).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		gvk := o.Obj.GroupVersionKind()
		m, err := kc.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatal(err)
		}
		_, err = kc.Dynamic.Resource(m.Resource).Namespace(o.Obj.GetNamespace()).Patch(context.Background(), o.Obj.GetName(),
			types.ApplyPatchType, body, metav1.PatchOptions{FieldManager: kube.FieldManager, Force: &force})
		if err != nil {
			t.Fatalf("apply %s: %v", o.Obj.GetName(), err)
		}
	}
}

// A pruning environment planned without --repo-name would silently show no
// deletes (the ApplySet is per repository): bot plan refuses instead.
func TestBotPlanPruneNeedsRepoName(t *testing.T) {
	repo, cfg := setup(t, "e2e-bot-plan-prune")
	data, err := os.ReadFile(filepath.Join(repo, ".tugboat.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	pruning := strings.Replace(string(data), "    path: deploy/dev\n", "    path: deploy/dev\n    prune: true\n", 1)
	writeTree(t, repo, map[string]string{".tugboat.yaml": pruning})

	stdout, stderr, code := botPlan(t, "--repo", repo, "--config", cfg, "--env", "dev")
	if code != 1 || !strings.Contains(stderr, "environment dev prunes: --repo-name owner/name is required") ||
		!strings.Contains(stderr, "not a git repository") {
		t.Fatalf("exit %d, want 1 with a --repo-name error; stderr:\n%s\nstdout:\n%s", code, stderr, stdout)
	}
	if _, stderr, code := botPlan(t, "--repo", repo, "--config", cfg, "--env", "dev", "--repo-name", "acme/e2e"); code != 2 {
		t.Fatalf("with --repo-name: exit %d, want 2; stderr:\n%s", code, stderr)
	}
	// A checkout whose remote names the repository needs no --repo-name.
	isolateGit(t)
	gitCheckout(t, repo, "origin https://github.com/acme/e2e.git")
	_, stderr, code = botPlan(t, "--repo", repo, "--config", cfg, "--env", "dev")
	if want := `bot plan: repository acme/e2e (from git remote "origin"; --repo-name overrides)`; code != 2 || !strings.Contains(stderr, want) {
		t.Fatalf("from the git remote: exit %d, want 2 and %q; stderr:\n%s", code, want, stderr)
	}
}
