package planner

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugboatops/tugboat/kube"
)

func TestPlanDeletesOnlyWithPrune(t *testing.T) {
	f := newFixture(t, cluster)
	f.createNamespace()
	f.apply(`apiVersion: v1
kind: ConfigMap
metadata: {name: kept, namespace: {{NS}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: removed, namespace: {{NS}}}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: protected
  namespace: {{NS}}
  annotations: {tugboat.dev/prune: disabled}
---
apiVersion: v1
kind: Secret
metadata: {name: removed-secret, namespace: {{NS}}}
stringData: {password: do-not-show-me}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: {{NS}}}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
`)
	// Objects of another repository in the same namespace are not ours.
	other := *f
	other.repo = "acme/someone-else"
	other.apply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: theirs, namespace: {{NS}}}\n")

	set := kube.ApplySet{Repo: f.repo, Env: "test"}
	err := kube.WriteInventory(f.ctx, f.kc, set, kube.Inventory{
		GroupKinds: []schema.GroupKind{{Kind: "ConfigMap"}, {Kind: "Secret"}, {Kind: "PersistentVolumeClaim"}},
		Namespaces: []string{f.ns},
	})
	if err != nil {
		t.Fatal(err)
	}
	head := f.files("deploy/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kept, namespace: {{NS}}}\n")
	base := f.files("deploy/cm.yaml", `apiVersion: v1
kind: ConfigMap
metadata: {name: kept, namespace: {{NS}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: removed, namespace: {{NS}}}
`)

	env := f.env()
	noPrune := f.plan(env, head, base)
	noProblems(t, noPrune)
	if got := noPrune.Counts(); got.Delete != 0 {
		t.Errorf("prune: false planned deletes:\n%s", describe(noPrune))
	}

	env.Prune = true
	p := f.plan(env, head, base)
	noProblems(t, p)
	if got := p.Counts(); got != (Counts{Delete: 3, Unchanged: 1}) {
		t.Fatalf("counts %+v:\n%s", got, describe(p))
	}
	for _, kept := range []string{"protected", "theirs"} {
		if hasChange(p, "ConfigMap", kept) {
			t.Errorf("%s is planned for deletion", kept)
		}
	}
	rm := change(t, p, "ConfigMap", "removed")
	if rm.Action != ActionDelete || !rm.FromPR || !strings.Contains(rm.Diff, "-  name: removed") {
		t.Errorf("removed: %s fromPR=%v\n%s", rm.Action, rm.FromPR, rm.Diff)
	}
	// Not in the base render either: left behind, not this PR's doing.
	sec := change(t, p, "Secret", "removed-secret")
	if sec.FromPR || !strings.Contains(sec.Diff, "-  password: <secret>") || strings.Contains(sec.Diff, b64("do-not-show-me")) {
		t.Errorf("secret delete: fromPR=%v\n%s", sec.FromPR, sec.Diff)
	}
	if pvc := change(t, p, "PersistentVolumeClaim", "data"); pvc.Danger == "" {
		t.Errorf("deleting a PVC carries no danger note")
	}
}

func TestInventoryRoundTrip(t *testing.T) {
	f := newFixture(t, cluster)
	set := kube.ApplySet{Repo: f.repo, Env: "test"}
	if inv, err := kube.ReadInventory(f.ctx, f.kc, set); err != nil || inv != nil {
		t.Fatalf("never applied: %+v, %v", inv, err)
	}
	want := kube.Inventory{
		GroupKinds:  []schema.GroupKind{{Group: "apps", Kind: "Deployment"}, {Kind: "ConfigMap"}},
		Namespaces:  []string{"b", "a"},
		Annotations: map[string]string{"tugboat.dev/last-applied-commit": "abc"},
	}
	if err := kube.WriteInventory(f.ctx, f.kc, set, want); err != nil {
		t.Fatal(err)
	}
	got, err := kube.ReadInventory(f.ctx, f.kc, set)
	if err != nil {
		t.Fatal(err)
	}
	if kube.FormatGroupKinds(got.GroupKinds) != "ConfigMap,Deployment.apps" ||
		strings.Join(got.Namespaces, ",") != "a,b" || got.Annotations["tugboat.dev/last-applied-commit"] != "abc" {
		t.Errorf("read back %+v", got)
	}
}

func TestPlanNoDeletesWhenRenderHasProblems(t *testing.T) {
	f := newFixture(t, cluster)
	f.createNamespace()
	f.apply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: {{NS}}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: {{NS}}}\n")
	set := kube.ApplySet{Repo: f.repo, Env: "test"}
	if err := kube.WriteInventory(f.ctx, f.kc, set, kube.Inventory{GroupKinds: []schema.GroupKind{{Kind: "ConfigMap"}}, Namespaces: []string{f.ns}}); err != nil {
		t.Fatal(err)
	}
	env := f.env()
	env.Prune = true
	// b.yaml no longer parses: b is missing from the render, not removed.
	p := f.plan(env, f.files(
		"deploy/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: {{NS}}}\n",
		"deploy/b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: {{NS}}\n"), nil)
	if c := p.Counts(); c.Delete != 0 {
		t.Fatalf("planned a delete although b.yaml failed to render:\n%s", describe(p))
	}
	found := false
	for _, pr := range p.Problems {
		found = found || pr.Message == "deletes are not planned while the render has problems"
	}
	if !found || len(p.Problems) < 2 {
		t.Errorf("want the render problem and the note on deletes:\n%s", describe(p))
	}
}
