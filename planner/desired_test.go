package planner

import (
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/kube"
)

// PlanForApply hands over, for each create and update, the object its
// dry-run sent — labels added, ignored fields left out of objects that
// exist — from the one render of the plan.
func TestPlanForApplyReturnsWhatTheDryRunSent(t *testing.T) {
	f := newFixture(t, cluster)
	f.createNamespace()
	web := strings.Replace(deployment("web"), "replicas: 0", "replicas: 1", 1)
	f.apply(web)
	f.applyAs("horizontal-pod-autoscaler", false, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: {{NS}}}\nspec:\n  replicas: 4\n")
	same := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: same, namespace: {{NS}}}\ndata: {a: b}\n"
	f.apply(same)
	head := f.files(
		"deploy/web.yaml", strings.Replace(web, "nginx:1.27", "nginx:1.28", 1),
		"deploy/same.yaml", same,
		"deploy/fresh.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fresh, namespace: {{NS}}}\ndata: {color: green}\n",
		"deploy/extra.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: {{NS}}-extra}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: inside, namespace: {{NS}}-extra}\ndata: {x: y}\n",
	)
	head["tree"] = &fstest.MapFile{Data: []byte("head")}
	env := f.env()
	env.Ignore = []config.IgnoreRule{{Kind: "Deployment", Name: "web", Paths: []string{"/spec/replicas"}}}
	renders := newCountingRenderer()

	ap, err := f.planner.PlanForApply(f.ctx, Input{Repo: head, RepoName: f.repo, Env: env, Commit: "head", Renderer: renders})
	var plan *Plan
	var objs map[ObjectRef]*unstructured.Unstructured
	if ap != nil {
		plan, objs = ap.Plan, ap.Objects
	}
	if err != nil {
		t.Fatal(err)
	}
	noProblems(t, plan)
	if got := renders.renders(); got != "head/test:1" {
		t.Errorf("renders = %s, want the head rendered once", got)
	}
	var names []string
	for ref := range objs {
		names = append(names, ref.String())
	}
	sort.Strings(names)
	want := []string{"ConfigMap/" + f.ns + "-extra/inside", "ConfigMap/" + f.ns + "/fresh", "Deployment/" + f.ns + "/web", "Namespace/" + f.ns + "-extra"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("objects for %v, want the creates and the update %v:\n%s", names, want, describe(plan))
	}
	for _, ch := range plan.Changes {
		obj, sent := objs[ch.Ref]
		if wantSent := ch.Action == ActionCreate || ch.Action == ActionUpdate; sent != wantSent {
			t.Errorf("%s %s: object handed over = %v", ch.Action, ch.Ref, sent)
		}
		if sent && obj.GetLabels()[kube.LabelApplySetPartOf] == "" {
			t.Errorf("%s sent without the ApplySet label: %v", ch.Ref, obj.GetLabels())
		}
	}
	dep := objs[change(t, plan, "Deployment", "web").Ref]
	if _, found, _ := unstructured.NestedFieldNoCopy(dep.Object, "spec", "replicas"); found {
		t.Error("the ignored spec.replicas of an existing Deployment is sent")
	}
	containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	if len(containers) != 1 || containers[0].(map[string]any)["image"] != "nginx:1.28" {
		t.Errorf("web sent with containers %v", containers)
	}
	if v, _, _ := unstructured.NestedString(objs[change(t, plan, "ConfigMap", "fresh").Ref].Object, "data", "color"); v != "green" {
		t.Errorf("fresh sent with color %q", v)
	}
}

// A plan with problems is not applied: no objects come with it.
func TestPlanForApplyWithProblemsHandsOverNothing(t *testing.T) {
	f := newFixture(t, cluster)
	f.createNamespace()
	head := f.files(
		"deploy/fresh.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fresh, namespace: {{NS}}}\ndata: {color: green}\n",
		"deploy/bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {namespace: {{NS}}}\n",
	)
	ap, err := f.planner.PlanForApply(f.ctx, Input{Repo: head, RepoName: f.repo, Env: f.env()})
	var plan *Plan
	var objs map[ObjectRef]*unstructured.Unstructured
	if ap != nil {
		plan, objs = ap.Plan, ap.Objects
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Problems) == 0 || objs != nil {
		t.Errorf("problems %d, objects %v: want problems and no objects\n%s", len(plan.Problems), objs, describe(plan))
	}
}
