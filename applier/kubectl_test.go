package applier

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/kube"
)

// TestKubectlApplySetInterop proves the labels are standard KEP-3659:
// kubectl lists exactly the set's members by its part-of label, and
// kubectl's own ApplySet prune refuses a set whose tooling is tugboat.
func TestKubectlApplySetInterop(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Fatalf("kubectl not installed: %v", err)
	}
	ctx := ctxFor(t, 3*time.Minute)
	const ns = "interop"
	e := newTestEnv(t, "acme/interop", "staging", cluster.RESTConfig())
	e.put("ns.yaml", namespaceYAML(ns))
	e.put("app.yaml", deploymentYAML(ns, "web", "nginx:1.27", 1), configMapYAML(ns, "a", map[string]string{"k": "v"}), configMapYAML(ns, "b", map[string]string{"k": "v"}))
	e.mustConverge(ctx)
	// A look-alike that is not a member.
	other := newTestEnv(t, "acme/other", "staging", cluster.RESTConfig())
	other.put("cm.yaml", configMapYAML(ns, "not-mine", map[string]string{"k": "v"}))
	other.mustConverge(ctx)

	kubectl := func(env []string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig", cluster.Kubeconfig()}, args...)...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := kubectl(nil, "get", "namespaces,configmaps,deployments", "-A", "-o", "name",
		"-l", kube.LabelApplySetPartOf+"="+e.set().ID())
	if err != nil {
		t.Fatalf("kubectl get: %v\n%s", err, out)
	}
	got := strings.Fields(out)
	sort.Strings(got)
	want := []string{"configmap/a", "configmap/b", "deployment.apps/web", "namespace/interop"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("kubectl get -l part-of lists %v, want %v", got, want)
	}

	// kubectl's ApplySet prune must refuse to touch tugboat's set.
	file := filepath.Join(t.TempDir(), "cm.yaml")
	if err := os.WriteFile(file, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-kubectl\ndata:\n  k: v\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = kubectl([]string{"KUBECTL_APPLYSET=true"}, "apply", "--server-side", "--prune",
		"--applyset=secret/"+e.set().ParentName(), "--namespace", kube.SystemNamespace, "-f", file)
	if err == nil {
		t.Fatalf("kubectl apply --prune --applyset on tugboat's set succeeded:\n%s", out)
	}
	// kubectl names the tooling without its version: "tugboat".
	if !strings.Contains(out, `managed by tooling "tugboat"`) {
		t.Fatalf("kubectl refused, but not because of the tooling:\n%s", out)
	}
	if get(t, gvrConfigMap, kube.SystemNamespace, "from-kubectl") != nil {
		t.Fatal("kubectl applied although it refused the set")
	}
	if get(t, gvrConfigMap, ns, "a") == nil {
		t.Fatal("a member disappeared")
	}
}
