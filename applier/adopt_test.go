package applier

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/planner"
)

// TestAdoptObjectsAppliedByKubectl: after `kubectl apply` of the same
// manifests (client-side and server-side), tugboat's first plan adopts
// every object — no updates, no diffs — the apply writes the membership
// label, and the next plan is empty.
func TestAdoptObjectsAppliedByKubectl(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Fatalf("kubectl not installed: %v", err)
	}
	ctx := ctxFor(t, 3*time.Minute)
	ns := uniqueName("adopt")
	e := newTestEnv(t, "acme/"+ns, "staging", cluster.RESTConfig())
	clientSide := []string{namespaceYAML(ns), configMapYAML(ns, "a", map[string]string{"k": "v"})}
	serverSide := []string{deploymentYAML(ns, "web", "nginx:1.27", 1), configMapYAML(ns, "b", map[string]string{"k": "v"})}
	dir := t.TempDir()
	for i, run := range []struct {
		docs  []string
		flags []string
	}{{clientSide, nil}, {serverSide, []string{"--server-side"}}} {
		file := filepath.Join(dir, "m"+string(rune('0'+i))+".yaml")
		if err := os.WriteFile(file, []byte(strings.Join(run.docs, "\n---\n")), 0o600); err != nil {
			t.Fatal(err)
		}
		args := append([]string{"--kubeconfig", cluster.Kubeconfig(), "apply", "-f", file}, run.flags...)
		if out, err := exec.CommandContext(ctx, "kubectl", args...).CombinedOutput(); err != nil {
			t.Fatalf("kubectl apply: %v\n%s", err, out)
		}
	}
	e.put("client.yaml", clientSide...)
	e.put("server.yaml", serverSide...)

	p := e.plan(ctx)
	if got := p.Counts(); got != (planner.Counts{Adopt: 4}) || len(p.Problems) > 0 {
		t.Fatalf("first plan: counts %+v, problems %v, want 4 adopt:\n%+v", got, p.Problems, p.Changes)
	}
	for _, ch := range p.Changes {
		if ch.Diff != "" || ch.Danger != "" {
			t.Errorf("%s: adopt with diff %q, danger %q", ch.Ref, ch.Diff, ch.Danger)
		}
	}
	if !p.HasChanges() {
		t.Fatal("a plan that adopts says it has no changes")
	}

	res := e.mustConverge(ctx)
	if len(res.Writes) != 4 {
		t.Fatalf("apply wrote %d objects, want the 4 adopted:\n%s", len(res.Writes), reportString(res))
	}
	for _, w := range res.Writes {
		if w.Action != planner.ActionAdopt || w.Outcome != WriteApplied {
			t.Errorf("%s: %s %s", w.Ref, w.Action, w.Outcome)
		}
	}
	for _, o := range []struct {
		gvr  schema.GroupVersionResource
		ns   string
		name string
	}{{gvrNamespace, "", ns}, {gvrConfigMap, ns, "a"}, {gvrConfigMap, ns, "b"}, {gvrDeployment, ns, "web"}} {
		live := get(t, o.gvr, o.ns, o.name)
		if got := live.GetLabels()[kube.LabelApplySetPartOf]; got != e.set().ID() {
			t.Errorf("%s %s: part-of %q, want %q", o.gvr.Resource, o.name, got, e.set().ID())
		}
	}
	if after := e.plan(ctx); after.HasChanges() || after.Counts().Unchanged != 4 {
		t.Fatalf("plan after adopting: %+v", after.Changes)
	}
}

// TestTakeoverFromAnotherApplySetIsDangerous: an object another ApplySet
// owns is not quietly adopted. The plan shows an update with the label's
// diff, marked dangerous, and the apply refuses it — writing nothing —
// unless dangerous changes are allowed.
func TestTakeoverFromAnotherApplySetIsDangerous(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	ns := uniqueName("takeover")
	theirs := newTestEnv(t, "acme/"+ns+"-theirs", "staging", cluster.RESTConfig())
	theirs.put("all.yaml", namespaceYAML(ns), configMapYAML(ns, "shared", map[string]string{"k": "v"}))
	theirs.mustConverge(ctx)

	ours := newTestEnv(t, "acme/"+ns+"-ours", "staging", cluster.RESTConfig())
	ours.put("cm.yaml", configMapYAML(ns, "shared", map[string]string{"k": "v"}))
	p := ours.plan(ctx)
	if len(p.Changes) != 1 || len(p.Problems) > 0 {
		t.Fatalf("plan: %+v %v", p.Changes, p.Problems)
	}
	ch := p.Changes[0]
	if ch.Action != planner.ActionUpdate || !strings.HasPrefix(ch.Danger, "takes the object over from environment staging of acme/"+ns+"-theirs (ApplySet "+theirs.set().ID()+")") ||
		!strings.Contains(ch.Diff, "-    "+kube.LabelApplySetPartOf+": "+theirs.set().ID()) ||
		!strings.Contains(ch.Diff, "+    "+kube.LabelApplySetPartOf+": "+ours.set().ID()) {
		t.Fatalf("takeover from another set: %s, danger %q, diff:\n%s", ch.Action, ch.Danger, ch.Diff)
	}

	before := get(t, gvrConfigMap, ns, "shared").GetResourceVersion()
	_, err := ours.apply(ctx, Options{})
	var de *DangerousError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "ConfigMap/"+ns+"/shared") {
		t.Fatalf("apply error = %v, want a DangerousError naming the ConfigMap", err)
	}
	if got := get(t, gvrConfigMap, ns, "shared").GetResourceVersion(); got != before {
		t.Fatal("a refused takeover still wrote the ConfigMap")
	}
	if res, err := ours.apply(ctx, Options{AllowDangerous: true}); err != nil {
		t.Fatalf("apply with AllowDangerous: %v\n%s", err, reportString(res))
	}
	if got := get(t, gvrConfigMap, ns, "shared").GetLabels()[kube.LabelApplySetPartOf]; got != ours.set().ID() {
		t.Fatalf("part-of after the takeover = %q, want %q", got, ours.set().ID())
	}
}
