package planner

import (
	"fmt"
	"strings"
	"testing"
)

const configMapsV1 = `apiVersion: v1
kind: ConfigMap
metadata:
  name: same
  namespace: {{NS}}
data:
  k: "1"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: changed
  namespace: {{NS}}
data:
  k: "1"
`

func TestPlanCreateUpdateUnchanged(t *testing.T) {
	f := newFixture(t, cluster)
	f.createNamespace()
	f.apply(configMapsV1)

	head := f.files("deploy/cm.yaml", `apiVersion: v1
kind: ConfigMap
metadata:
  name: same
  namespace: {{NS}}
data:
  k: "1"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: changed
  namespace: {{NS}}
data:
  k: "2"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: new
  namespace: {{NS}}
data:
  k: "3"
`)
	p := f.plan(f.env(), head, nil)
	noProblems(t, p)

	if c := change(t, p, "ConfigMap", "same"); c.Action != ActionUnchanged || c.Diff != "" {
		t.Errorf("same: got %s with diff %q, want unchanged without diff", c.Action, c.Diff)
	}
	upd := change(t, p, "ConfigMap", "changed")
	if upd.Action != ActionUpdate {
		t.Errorf("changed: got %s, want update", upd.Action)
	}
	for _, want := range []string{"--- live", "+++ planned", `-  k: "1"`, `+  k: "2"`} {
		if !strings.Contains(upd.Diff, want) {
			t.Errorf("changed: diff lacks %q:\n%s", want, upd.Diff)
		}
	}
	cr := change(t, p, "ConfigMap", "new")
	if cr.Action != ActionCreate || !strings.Contains(cr.Diff, `+  k: "3"`) {
		t.Errorf("new: got %s with diff\n%s", cr.Action, cr.Diff)
	}
	if cr.Source.File != "deploy/cm.yaml" || cr.Source.Line == 0 {
		t.Errorf("new: source %+v, want deploy/cm.yaml with a line", cr.Source)
	}
	for _, c := range p.Changes {
		for _, noise := range []string{"managedFields", "resourceVersion", "uid:", "creationTimestamp"} {
			if strings.Contains(c.Diff, noise) {
				t.Errorf("%s: diff shows %s:\n%s", c.Ref, noise, c.Diff)
			}
		}
	}
	if got := p.Counts(); got != (Counts{Create: 1, Update: 1, Unchanged: 1}) {
		t.Errorf("counts %+v", got)
	}
	if !p.HasChanges() || !strings.HasPrefix(p.Digest, "sha256:") {
		t.Errorf("HasChanges=%v digest=%q", p.HasChanges(), p.Digest)
	}

	// Once applied the way the applier applies (same labels, same field
	// manager), the same repository plans to nothing at all.
	f.apply(string(head["deploy/cm.yaml"].Data))
	again := f.plan(f.env(), head, nil)
	noProblems(t, again)
	if again.HasChanges() {
		t.Errorf("plan after apply still has changes:\n%s", describe(again))
	}
}

func TestPlanNamespaceAndObjectsInOnePlan(t *testing.T) {
	f := newFixture(t, cluster)
	head := f.files("deploy/all.yaml", `apiVersion: v1
kind: Namespace
metadata:
  name: {{NS}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: {{NS}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.27}]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: {{NS}}
data: {a: b}
`)
	p := f.plan(f.env(), head, nil)
	noProblems(t, p)
	if got := p.Counts(); got != (Counts{Create: 3}) {
		t.Fatalf("counts %+v, want 3 creates:\n%s", got, describe(p))
	}
	// Apply order, not file order (Namespace, Deployment, ConfigMap there).
	var order []string
	for _, c := range p.Changes {
		order = append(order, c.Ref.Kind+"/"+c.Ref.Name)
	}
	if got, want := strings.Join(order, " "), "Namespace/"+f.ns+" ConfigMap/settings Deployment/web"; got != want {
		t.Errorf("changes in order %s, want %s", got, want)
	}
	dep := change(t, p, "Deployment", "web")
	for _, want := range []string{"+  name: web", "image: nginx:1.27", "applyset.kubernetes.io/part-of"} {
		if !strings.Contains(dep.Diff, want) {
			t.Errorf("deployment diff lacks %q:\n%s", want, dep.Diff)
		}
	}
}

func TestPlanCRDAndCustomResourceInOnePlan(t *testing.T) {
	f := newFixture(t, cluster)
	f.createNamespace()
	group := strings.ReplaceAll(f.ns, "-", "") + ".example.com"
	head := f.files("deploy/crd.yaml", strings.ReplaceAll(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.{{GROUP}}
spec:
  group: {{GROUP}}
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
`, "{{GROUP}}", group), "deploy/widget.yaml", strings.ReplaceAll(`apiVersion: {{GROUP}}/v1
kind: Widget
metadata:
  name: w1
  namespace: {{NS}}
spec:
  size: 3
`, "{{GROUP}}", group))
	p := f.plan(f.env(), head, nil)
	noProblems(t, p)
	if got := p.Counts(); got != (Counts{Create: 2}) {
		t.Fatalf("counts %+v, want 2 creates:\n%s", got, describe(p))
	}
	var order []string
	for _, c := range p.Changes {
		order = append(order, c.Ref.Kind+"/"+c.Ref.Name)
	}
	if got, want := strings.Join(order, " "), "CustomResourceDefinition/widgets."+group+" Widget/w1"; got != want {
		t.Errorf("changes in order %s, want %s (the CRD first)", got, want)
	}
	if w := change(t, p, "Widget", "w1"); !strings.Contains(w.Diff, "+  size: 3") {
		t.Errorf("widget diff:\n%s", w.Diff)
	}
	if w := change(t, p, "Widget", "w1"); w.Source.File != "deploy/widget.yaml" {
		t.Errorf("widget source %+v", w.Source)
	}
}

// bigCRD returns a CRD of about size bytes, shaped like the largest ones
// in common use (prometheus-operator's): thousands of documented fields.
func bigCRD(group string, size int) string {
	var b strings.Builder
	b.WriteString(strings.ReplaceAll(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: monitors.{{GROUP}}
spec:
  group: {{GROUP}}
  scope: Namespaced
  names: {plural: monitors, singular: monitor, kind: Monitor, listKind: MonitorList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
`, "{{GROUP}}", group))
	desc := strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", 6)
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "              field%05d:\n                type: string\n                description: %q\n", i, desc)
	}
	return b.String()
}

func TestPlanLargeCRD(t *testing.T) {
	f := newFixture(t, cluster)
	f.createNamespace()
	group := strings.ReplaceAll(f.ns, "-", "") + ".example.com"
	crd := bigCRD(group, 800<<10)
	head := f.files("deploy/crd.yaml", crd, "deploy/cr.yaml", strings.ReplaceAll(`apiVersion: {{GROUP}}/v1
kind: Monitor
metadata:
  name: m1
  namespace: {{NS}}
spec:
  field00001: hello
`, "{{GROUP}}", group))
	p := f.plan(f.env(), head, nil)
	noProblems(t, p)
	if got := p.Counts(); got != (Counts{Create: 2}) {
		t.Fatalf("counts %+v, want 2 creates", got)
	}
	if c := change(t, p, "CustomResourceDefinition", "monitors."+group); !strings.Contains(c.Diff, "field00999") {
		t.Errorf("CRD diff misses its fields (%d bytes)", len(c.Diff))
	}

	// Applied (server-side: no 256 KiB last-applied annotation), then
	// planned again: nothing left to do, the CR now dry-run for real.
	f.apply(crd)
	waitForKind(t, f, group, "Monitor")
	again := f.plan(f.env(), head, nil)
	noProblems(t, again)
	if c := change(t, again, "CustomResourceDefinition", "monitors."+group); c.Action != ActionUnchanged {
		t.Errorf("CRD after apply: %s\n%s", c.Action, c.Diff)
	}
	if c := change(t, again, "Monitor", "m1"); c.Action != ActionCreate {
		t.Errorf("CR after CRD apply: %s", c.Action)
	}
}

func TestPlanUnknownClusterIsOneProblem(t *testing.T) {
	f := newFixture(t, cluster)
	env := f.env()
	env.Cluster = "nowhere"
	p := f.plan(env, f.files("deploy/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: {{NS}}}\n"), nil)
	if len(p.Problems) != 1 || len(p.Changes) != 0 ||
		!strings.Contains(p.Problems[0].Message, `cluster "nowhere" is not in the server's cluster registry`) {
		t.Fatalf("got:\n%s", describe(p))
	}
	if p.Cluster != "nowhere" || p.Env != "test" || p.Digest == "" {
		t.Errorf("plan header %q %q %q", p.Env, p.Cluster, p.Digest)
	}
}

func TestPlanNeedsADigestKey(t *testing.T) {
	f := newFixture(t, cluster)
	f.planner.DigestKey = nil
	if _, err := f.planner.Plan(f.ctx, Input{Repo: f.files(), Env: f.env()}); err == nil {
		t.Fatal("planned without a digest key")
	}
}

func TestPlanKustomizeOverlay(t *testing.T) {
	f := newFixture(t, cluster)
	f.createNamespace()
	head := f.files(
		"deploy/base/kustomization.yaml", "resources: [deployment.yaml]\n",
		"deploy/base/deployment.yaml", deployment("web"),
		"deploy/kustomization.yaml", `namespace: {{NS}}
resources: [base]
images:
- {name: nginx, newTag: "1.28"}
configMapGenerator:
- name: settings
  literals: [color=blue]
secretGenerator:
- name: creds
  literals: [password=kustomize-secret-value]
`)
	p := f.plan(f.env(), head, nil)
	noProblems(t, p)
	if got := p.Counts(); got.Create != 3 {
		t.Fatalf("counts %+v:\n%s", got, describe(p))
	}
	dep := change(t, p, "Deployment", "web")
	if dep.Source.File != "deploy/base/deployment.yaml" || !strings.Contains(dep.Diff, "image: nginx:1.28") {
		t.Errorf("deployment from %+v:\n%s", dep.Source, dep.Diff)
	}
	for _, c := range p.Changes {
		if strings.Contains(c.Diff, "config.kubernetes.io") || strings.Contains(c.Diff, "internal.config.kubernetes.io") {
			t.Errorf("%s: Kustomize's build annotations reached the diff:\n%s", c.Ref, c.Diff)
		}
		if c.Ref.Kind == "Secret" {
			if !strings.HasPrefix(c.Ref.Name, "creds-") || !strings.Contains(c.Diff, "password: <secret, added>") ||
				strings.Contains(c.Diff, "kustomize-secret-value") || strings.Contains(c.Diff, b64("kustomize-secret-value")) {
				t.Errorf("generated Secret %s:\n%s", c.Ref.Name, c.Diff)
			}
		}
	}
}
