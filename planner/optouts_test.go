package planner

import "testing"

// A create-only object is created when missing and, once it exists, shown
// as unchanged whatever it holds: the applier never updates it, so the plan
// must not promise an update.
func TestPlanCreateOnlyObject(t *testing.T) {
	f := newFixture(t, cluster)
	f.createNamespace()
	head := f.files("deploy/cm.yaml", `apiVersion: v1
kind: ConfigMap
metadata:
  name: seeded
  namespace: {{NS}}
  annotations: {tugboat.dev/apply: if-not-present}
data:
  token: from-git
`)
	first := f.plan(f.env(), head, nil)
	noProblems(t, first)
	if c := change(t, first, "ConfigMap", "seeded"); c.Action != ActionCreate {
		t.Fatalf("missing create-only object: got %s, want create", c.Action)
	}

	// Someone fills it in by hand; Git still says "from-git".
	f.applyAs("person", false, `apiVersion: v1
kind: ConfigMap
metadata: {name: seeded, namespace: {{NS}}}
data: {token: filled-by-hand}
`)
	again := f.plan(f.env(), head, nil)
	noProblems(t, again)
	if c := change(t, again, "ConfigMap", "seeded"); c.Action != ActionUnchanged || c.Diff != "" {
		t.Fatalf("existing create-only object: got %s with diff %q, want unchanged", c.Action, c.Diff)
	}
	if again.HasChanges() {
		t.Errorf("plan has changes:\n%s", describe(again))
	}
}
