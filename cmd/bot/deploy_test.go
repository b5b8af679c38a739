package main

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/internal/kubetest"
)

// repoRoot is the repository's top directory (tests run in cmd/bot).
const repoRoot = "../.."

// dogfoodConfig is the README's .tugboat.yaml for deploying tugboat with
// tugboat: the fenced block after the "dogfood .tugboat.yaml" marker.
func dogfoodConfig(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "<!-- dogfood .tugboat.yaml -->")
	if !ok {
		t.Fatal("README.md has no dogfood .tugboat.yaml block")
	}
	_, rest, _ = strings.Cut(rest, "```yaml\n")
	block, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("README.md's dogfood block is not a fenced yaml block")
	}
	return block
}

// copyDeploy copies deploy/ into dir/deploy.
func copyDeploy(t *testing.T, dir string) {
	t.Helper()
	src := filepath.Join(repoRoot, "deploy")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		dst := filepath.Join(dir, "deploy", rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// kustomize runs `kubectl kustomize dir`, as a user would.
func kustomize(t *testing.T, dir string) string {
	t.Helper()
	out, err := exec.Command("kubectl", "kustomize", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl kustomize %s: %v\n%s", dir, err, out)
	}
	return string(out)
}

// deploy/ builds with kubectl, with and without the ServiceMonitor
// component, and the RBAC variants build on their own.
func TestDeployBuilds(t *testing.T) {
	out := kustomize(t, filepath.Join(repoRoot, "deploy/overlays/example"))
	for _, want := range []string{
		"kind: Deployment", "image: ghcr.io/acme/tugboat:v0.1.0", "name: tugboat-config-", "kind: NetworkPolicy",
		"runAsNonRoot: true", "readOnlyRootFilesystem: true", "type: RuntimeDefault", "GOMEMLIMIT", "path: /readyz",
		"replicas: 2", "kind: PodDisruptionBudget", "maxUnavailable: 1",
		"kind: ServiceAccount\n  name: tugboat\n  namespace: tugboat-system", // target-cluster bindings name the ServiceAccount
	} {
		if !strings.Contains(out, want) {
			t.Errorf("overlays/example lacks %q", want)
		}
	}
	if strings.Contains(out, "kind: User") || strings.Contains(out, "kind: Secret\n") {
		t.Errorf("overlays/example binds a User or holds a Secret:\n%s", out)
	}
	dir := t.TempDir()
	copyDeploy(t, dir)
	writeTree(t, dir, map[string]string{"deploy/overlays/monitored/kustomization.yaml": "resources: [../example]\ncomponents: [../../components/servicemonitor]\n"})
	if out := kustomize(t, filepath.Join(dir, "deploy/overlays/monitored")); !strings.Contains(out, "kind: ServiceMonitor") || !strings.Contains(out, "name: tugboat-admin") {
		t.Errorf("the servicemonitor component adds no ServiceMonitor or admin Service:\n%s", out)
	}
	if out := kustomize(t, filepath.Join(repoRoot, "deploy/rbac/per-namespace")); !strings.Contains(out, "kind: RoleBinding\nmetadata:\n  name: tugboat-applier\n  namespace: apps") ||
		strings.Contains(out, "kind: ClusterRoleBinding\nmetadata:\n  name: tugboat-applier\n") {
		t.Errorf("rbac/per-namespace does not bind per namespace:\n%s", out)
	}
	if out := kustomize(t, filepath.Join(repoRoot, "deploy/rbac")); !strings.Contains(out, "kind: Namespace") || !strings.Contains(out, "name: tugboat-applier") {
		t.Errorf("rbac lacks its namespace or roles:\n%s", out)
	}
}

// Dogfood: deploy/ is deployable by tugboat. The README's .tugboat.yaml
// plans overlays/example into a cluster cleanly (every object a server-side
// dry-run create, no problems), `bot apply` applies and converges it, and
// the plan after it is empty: no noise.
func TestDogfoodDeploy(t *testing.T) {
	// A cluster of its own: the overlay's Namespace is tugboat-system,
	// which the package's shared cluster holds other tests' ApplySet
	// parents in (its Namespace would be an update, and deleting it
	// afterwards would take their state with it).
	cluster := kubetest.Start(t)
	dir := t.TempDir()
	repo := filepath.Join(dir, "repo")
	copyDeploy(t, repo)
	writeTree(t, repo, map[string]string{".tugboat.yaml": dogfoodConfig(t)})
	writeTree(t, dir, map[string]string{
		"digest.key":  "dogfood-digest-key-dogfood-key32",
		"server.yaml": "clusters:\n  home:\n    kubeconfig: " + cluster.Kubeconfig() + "\ndigest_key_file: digest.key\n",
	})
	cfg := filepath.Join(dir, "server.yaml")
	args := []string{"--repo", repo, "--config", cfg, "--env", "tugboat", "--repo-name", "acme/platform", "-o", "json"}

	out, stderr, code := botPlan(t, args...)
	if code != 2 {
		t.Fatalf("first plan: exit %d, want 2 (changes)\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	var doc jsonReport
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	p := doc.Plans[0]
	if len(p.Problems) != 0 {
		t.Fatalf("problems planning deploy/overlays/example: %+v", p.Problems)
	}
	kinds := map[string]bool{}
	for _, c := range p.Changes {
		kinds[c.Kind] = true
	}
	for _, k := range []string{"Namespace", "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment", "Service", "NetworkPolicy", "PodDisruptionBudget"} {
		if !kinds[k] {
			t.Errorf("the plan has no %s", k)
		}
	}
	if p.Counts.Create != len(p.Changes) || p.Counts.Update+p.Counts.Delete != 0 {
		t.Errorf("counts %+v for %d changes, want only creates", p.Counts, len(p.Changes))
	}

	applyOut, applyErr, code := botApply(t, "--repo", repo, "--config", cfg, "--env", "tugboat", "--repo-name", "acme/platform", "--yes")
	if code != 0 || !strings.Contains(applyOut, "result: converged") {
		t.Fatalf("bot apply: exit %d\nstdout:\n%s\nstderr:\n%s", code, applyOut, applyErr)
	}
	d, err := cluster.Client().AppsV1().Deployments("tugboat-system").Get(context.Background(), "tugboat", metav1.GetOptions{})
	if err != nil || d.Spec.Template.Spec.Containers[0].Image != "ghcr.io/acme/tugboat:v0.1.0" {
		t.Fatalf("tugboat's Deployment not applied: %v", err)
	}
	// Converged means both replicas available, and the budget lets one go.
	if d.Status.AvailableReplicas != 2 {
		t.Errorf("tugboat's Deployment has %d available replicas after converging, want 2", d.Status.AvailableReplicas)
	}
	if _, err := cluster.Client().PolicyV1().PodDisruptionBudgets("tugboat-system").Get(context.Background(), "tugboat", metav1.GetOptions{}); err != nil {
		t.Errorf("tugboat's PodDisruptionBudget not applied: %v", err)
	}

	out, stderr, code = botPlan(t, args...)
	if code != 0 {
		t.Errorf("plan after the apply: exit %d, want 0 (no changes)\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
}

// Several replicas need their coordination: the Deployment runs 2+, so the
// server config deploy/ mounts has home: (in the namespace whose Role
// grants the Leases), and a PodDisruptionBudget of those very pods lets at
// most one go at a time.
func TestDeployReplicasCoordinate(t *testing.T) {
	var (
		dep    appsv1.Deployment
		pdb    policyv1.PodDisruptionBudget
		conf   string
		roleNS string
	)
	for _, doc := range strings.Split(kustomize(t, filepath.Join(repoRoot, "deploy/overlays/example")), "\n---\n") {
		var obj struct {
			Kind     string            `json:"kind"`
			Metadata metav1.ObjectMeta `json:"metadata"`
			Data     map[string]string `json:"data"`
		}
		if err := sigsyaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatal(err)
		}
		switch {
		case obj.Kind == "Deployment":
			sigsyaml.Unmarshal([]byte(doc), &dep)
		case obj.Kind == "PodDisruptionBudget":
			sigsyaml.Unmarshal([]byte(doc), &pdb)
		case obj.Kind == "ConfigMap" && strings.HasPrefix(obj.Metadata.Name, "tugboat-config-"):
			conf = obj.Data["server.yaml"]
		case obj.Kind == "Role" && obj.Metadata.Name == "tugboat-home":
			roleNS = obj.Metadata.Namespace
		}
	}
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas < 2 {
		t.Fatalf("the Deployment runs %v replicas, want 2 or more", dep.Spec.Replicas)
	}
	if len(dep.Spec.Template.Spec.TopologySpreadConstraints) == 0 {
		t.Errorf("the replicas are not spread over nodes and zones")
	}
	cfg, err := config.ParseServer([]byte(conf), "server.yaml")
	if err != nil {
		t.Fatalf("the mounted server.yaml: %v", err)
	}
	if !cfg.Home.Enabled() || cfg.Home.Namespace != dep.Namespace || roleNS != dep.Namespace {
		t.Errorf("home: %+v, want in the Deployment's namespace %s, where the Role tugboat-home grants the Leases (it is in %q)", cfg.Home, dep.Namespace, roleNS)
	}
	sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	if err != nil || sel.Empty() || !sel.Matches(labels.Set(dep.Spec.Template.Labels)) {
		t.Errorf("the PodDisruptionBudget's selector %v does not select the Deployment's pods %v", pdb.Spec.Selector, dep.Spec.Template.Labels)
	}
	if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 || pdb.Spec.MinAvailable != nil {
		t.Errorf("the PodDisruptionBudget allows %v unavailable (min available %v), want maxUnavailable: 1", pdb.Spec.MaxUnavailable, pdb.Spec.MinAvailable)
	}
}
