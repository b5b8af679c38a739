package planner

import (
	"encoding/json"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tugboatops/tugboat/config"
)

func TestPlanIgnoreRuleForHPAOwnedReplicas(t *testing.T) {
	f := newFixture(t, cluster)
	f.createNamespace()
	dep := strings.Replace(deployment("web"), "replicas: 0", "replicas: 1", 1)
	f.apply(dep)
	// The HPA takes over spec.replicas.
	f.applyAs("horizontal-pod-autoscaler", false, `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: {{NS}}}
spec:
  replicas: 4
`)
	head := f.files("deploy/web.yaml", dep)

	without := f.plan(f.env(), head, nil)
	noProblems(t, without)
	if c := change(t, without, "Deployment", "web"); c.Action != ActionUpdate || !strings.Contains(c.Diff, "+  replicas: 1") {
		t.Fatalf("without the rule the HPA's replicas should show as a diff:\n%s", describe(without))
	}

	env := f.env()
	env.Ignore = []config.IgnoreRule{{Kind: "Deployment", Name: "web", Paths: []string{"/spec/replicas"}}}
	with := f.plan(env, head, nil)
	noProblems(t, with)
	if c := change(t, with, "Deployment", "web"); c.Action != ActionUnchanged {
		t.Errorf("with the ignore rule: %s\n%s", c.Action, c.Diff)
	}
}

func TestRemovePaths(t *testing.T) {
	var obj map[string]any
	if err := json.Unmarshal([]byte(`{"spec":{"replicas":3,"a/b":1,"list":[{"x":1},{"x":2},{"x":3}]},"metadata":{"name":"n"}}`), &obj); err != nil {
		t.Fatal(err)
	}
	removePaths(obj, []string{"/spec/replicas", "/spec/a~1b", "/spec/list/1", "/spec/list/0/x", "/nothing/here", "not-a-pointer", "/spec/list/9"})
	got, _ := json.Marshal(obj)
	if want := `{"metadata":{"name":"n"},"spec":{"list":[{},{"x":3}]}}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestIgnorePathsFor(t *testing.T) {
	rules := []config.IgnoreRule{
		{Kind: "Deployment", Paths: []string{"/spec/replicas"}},
		{Kind: "Deployment", Name: "api", Namespace: "prod", Paths: []string{"/metadata/annotations"}},
		{Group: "batch", Kind: "Deployment", Paths: []string{"/x"}},
	}
	got := ignorePathsFor(rules, ObjectRef{Group: "apps", Kind: "Deployment", Namespace: "prod", Name: "api"})
	if strings.Join(got, " ") != "/spec/replicas /metadata/annotations" {
		t.Errorf("got %v", got)
	}
	if got := ignorePathsFor(rules, ObjectRef{Kind: "ConfigMap", Name: "api"}); len(got) != 0 {
		t.Errorf("ConfigMap matched %v", got)
	}
}

// TestPlanIgnoreRuleOnCreate: an ignored field is left out of a create too
// (DESIGN.md decision 7), and so is a manifest's own last-applied
// annotation: what the applier is handed to send is what the diff shows,
// the diff's header says which fields were left out, and the digest does
// not depend on a value that is never sent.
func TestPlanIgnoreRuleOnCreate(t *testing.T) {
	withReplicas := func(n string) string {
		return strings.Replace(deployment("web"), "  replicas: 0\n", "  replicas: "+n+"\n", 1) + "---\n" +
			`apiVersion: v1
kind: ConfigMap
metadata:
  name: conf
  namespace: {{NS}}
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"data":{"k":"from-an-old-kubectl-apply"}}'
data: {k: v}
`
	}
	for _, tc := range []struct {
		name      string
		namespace bool // the namespace is created by the plan: nothing is dry-run
	}{{"dry-run", false}, {"namespace created by the plan", true}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, cluster)
			nsDoc := "apiVersion: v1\nkind: Namespace\nmetadata: {name: {{NS}}}\n---\n"
			if !tc.namespace {
				f.createNamespace()
				nsDoc = ""
			}
			env := f.env()
			env.Ignore = []config.IgnoreRule{{Kind: "Deployment", Paths: []string{"/spec/replicas", "/spec/paused"}}}
			in := Input{Repo: f.files("deploy/all.yaml", nsDoc+withReplicas("500")), RepoName: f.repo, Env: env, Commit: "head"}
			ap, err := f.planner.PlanForApply(f.ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			p, objs := ap.Plan, ap.Objects
			noProblems(t, p)
			dep := change(t, p, "Deployment", "web")
			if dep.Action != ActionCreate {
				t.Fatalf("deployment: %s, want create", dep.Action)
			}
			// Only the path the manifest sets is named (not /spec/paused).
			if !strings.Contains(dep.Diff, "+++ planned (") || !strings.Contains(dep.Diff, "left out by ignore rules: /spec/replicas)") {
				t.Errorf("the diff does not say replicas were left out:\n%s", dep.Diff)
			}
			if tc.namespace && !strings.Contains(dep.Diff, "not dry-run: namespace") {
				t.Errorf("the diff does not say it was not dry-run:\n%s", dep.Diff)
			}
			if strings.Contains(dep.Diff, "500") {
				t.Errorf("the diff shows the ignored value:\n%s", dep.Diff)
			}
			sent := objs[dep.Ref]
			if sent == nil {
				t.Fatalf("no object to send for %s", dep.Ref)
			}
			if r, found, _ := unstructured.NestedFieldNoCopy(sent.Object, "spec", "replicas"); found {
				t.Errorf("the object sent on create has replicas %v, which the ignore rule leaves out", r)
			}
			cm := change(t, p, "ConfigMap", "conf")
			if strings.Contains(cm.Diff, "last-applied") || strings.Contains(cm.Diff, "left out") {
				t.Errorf("configmap diff:\n%s", cm.Diff)
			}
			if _, ok := objs[cm.Ref].GetAnnotations()[lastAppliedAnnotation]; ok {
				t.Errorf("the manifest's last-applied annotation is sent but never shown")
			}

			// A value that is never sent cannot change the digest.
			other := f.plan(env, f.files("deploy/all.yaml", nsDoc+withReplicas("7")), nil)
			if other.Digest != p.Digest {
				t.Errorf("digest changed with an ignored value:\n%s\nvs\n%s", describe(p), describe(other))
			}
		})
	}
}
