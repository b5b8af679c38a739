package planner

import (
	"encoding/json"
	"strings"
	"testing"

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
