package planner

import (
	"strings"
	"testing"

	"github.com/tugboatops/tugboat/config"
)

// policyRepoConfig holds the policies of the tests, as a repository
// writes them.
const policyRepoConfig = `version: 1
policies:
  - name: limits-required
    match: [{group: apps, kinds: [Deployment]}]
    validations:
      - expression: "object.spec.template.spec.containers.all(c, has(c.resources) && has(c.resources.limits))"
        message: every container needs resource limits
  - name: no-latest
    action: warn
    match: [{kinds: [Deployment]}]
    validations:
      - expression: "object.spec.template.spec.containers.all(c, !c.image.endsWith(':latest'))"
        message: pin the image to a version, not :latest
  - name: team-label
    match: [{group: apps, kinds: [Deployment], namespaces: ["{{NS}}"]}]
    validations:
      - expression: "has(object.metadata.labels) && 'team' in object.metadata.labels"
        message: every Deployment needs a team label
  - name: no-scale-down
    match: [{group: apps, kinds: [Deployment], names: [good]}]
    validations:
      - expression: "oldObject == null || object.spec.replicas >= oldObject.spec.replicas"
        message: scaling down needs a second look
environments:
  test: {cluster: test, path: deploy}
`

func policyDeployment(name, labels, image, resources string, replicas int) string {
	return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ` + name + `
  namespace: {{NS}}` + labels + `
spec:
  replicas: ` + string(rune('0'+replicas)) + `
  selector: {matchLabels: {app: ` + name + `}}
  template:
    metadata: {labels: {app: ` + name + `}}
    spec:
      containers:
        - name: app
          image: ` + image + resources + `
`
}

const (
	teamLabel = "\n  labels: {team: shop}"
	limits    = "\n          resources: {limits: {cpu: 100m, memory: 64Mi}}"
)

func (f *fixture) policies() []config.Policy {
	f.t.Helper()
	cfg, err := config.ParseRepo([]byte(f.expand(policyRepoConfig)), ".tugboat.yaml")
	if err != nil {
		f.t.Fatal(err)
	}
	return cfg.Policies
}

// TestPoliciesSeededViolations: every seeded violation is reported at its
// object's file and line, naming the policy and its message; deny
// violations are problems, warn violations warnings; compliant objects
// beside them are not reported; and an update is checked with oldObject.
func TestPoliciesSeededViolations(t *testing.T) {
	f := newFixture(t, cluster)
	f.createNamespace()
	env := f.env()
	env.Policies = f.policies()
	docs := []string{
		policyDeployment("good", teamLabel, "nginx:1.27", limits, 3),
		policyDeployment("nolimits", teamLabel, "nginx:1.27", "", 1),
		policyDeployment("latest", teamLabel, "nginx:latest", limits, 1),
		policyDeployment("noteam", "", "nginx:1.27", limits, 1),
		"apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: {{NS}}}\nspec: {ports: [{port: 80}]}\n",
	}
	head := f.files("deploy/app.yaml", strings.Join(docs, "---\n"))
	p := f.plan(env, head, nil)
	type seen struct{ object, message string }
	got := func(ps []Problem) map[seen]Location {
		m := map[seen]Location{}
		for _, pr := range ps {
			m[seen{pr.Object, pr.Message}] = pr.Source
		}
		return m
	}
	ns := f.ns
	wantProblems := map[seen]bool{
		{"Deployment/" + ns + "/nolimits", "policy limits-required: every container needs resource limits"}: true,
		{"Deployment/" + ns + "/noteam", "policy team-label: every Deployment needs a team label"}:          true,
	}
	wantWarnings := map[seen]bool{
		{"Deployment/" + ns + "/latest", "policy no-latest: pin the image to a version, not :latest"}: true,
	}
	check := func(kind string, ps []Problem, want map[seen]bool) {
		t.Helper()
		g := got(ps)
		if len(g) != len(want) {
			t.Errorf("%s: got %d, want %d:\n%+v", kind, len(g), len(want), ps)
		}
		for w := range want {
			loc, ok := g[w]
			if !ok {
				t.Errorf("%s: missing %+v; got %+v", kind, w, ps)
				continue
			}
			if loc.File != "deploy/app.yaml" || loc.Line != changeLine(t, p, strings.TrimPrefix(w.object, "Deployment/"+ns+"/")) {
				t.Errorf("%s %v at %s:%d, want the object's own file and line", kind, w, loc.File, loc.Line)
			}
		}
	}
	check("problems", p.Problems, wantProblems)
	check("warnings", p.Warnings, wantWarnings)

	// An update is checked against the live object: scaling good down from
	// 3 to 1 violates no-scale-down; nothing else changes.
	f.apply(docs[0])
	docs[0] = policyDeployment("good", teamLabel, "nginx:1.27", limits, 1)
	p = f.plan(env, f.files("deploy/app.yaml", strings.Join(docs, "---\n")), nil)
	wantProblems[seen{"Deployment/" + ns + "/good", "policy no-scale-down: scaling down needs a second look"}] = true
	check("problems after scale-down", p.Problems, wantProblems)
}

// changeLine is the source line of the plan's Deployment called name.
func changeLine(t *testing.T, p *Plan, name string) int {
	t.Helper()
	ch := change(t, p, "Deployment", name)
	if ch.Source.Line == 0 {
		t.Fatalf("Deployment %s has no source line", name)
	}
	return ch.Source.Line
}

// TestPoliciesKustomizeAndNewNamespace: in a Kustomize environment a
// violation is at the manifest's own file and line (not the rendered
// stream's), and an object that cannot be dry-run yet (its namespace is
// created by the same plan) is checked as rendered.
func TestPoliciesKustomizeAndNewNamespace(t *testing.T) {
	f := newFixture(t, cluster)
	env := f.env()
	env.Path = "k"
	env.Namespace = ""
	env.Policies = f.policies()
	head := f.files(
		"k/kustomization.yaml", "resources: [ns.yaml, apps.yaml]\n",
		"k/ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: {{NS}}}\n",
		"k/apps.yaml", policyDeployment("good", teamLabel, "nginx:1.27", limits, 1)+"---\n"+
			policyDeployment("nolimits", teamLabel, "nginx:1.27", "", 1),
	)
	p := f.plan(env, head, nil)
	if len(p.Problems) != 1 {
		t.Fatalf("problems = %+v, want nolimits' violation only", p.Problems)
	}
	pr := p.Problems[0]
	if pr.Object != "Deployment/"+f.ns+"/nolimits" || pr.Message != "policy limits-required: every container needs resource limits" ||
		pr.Source.File != "k/apps.yaml" || pr.Source.Line != 18 {
		t.Errorf("problem = %+v, want nolimits' limits-required violation at k/apps.yaml:18", pr)
	}
	if ch := change(t, p, "Deployment", "nolimits"); !strings.Contains(ch.Diff, "not dry-run") {
		t.Errorf("nolimits was dry-run although its namespace is new:\n%s", ch.Diff)
	}
}
