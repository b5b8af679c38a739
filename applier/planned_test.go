package applier

import (
	"testing"
	"time"
)

// A plan handed over by a caller that holds the apply mutex is applied as
// it was made: the objects its dry-run sent are written, the record names
// its digest and the phases include its planning time.
func TestApplyPlannedUsesTheGivenPlan(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	ns := uniqueName("planned")
	e := newTestEnv(t, "acme/"+ns, "staging", cluster.RESTConfig())
	e.put("ns.yaml", namespaceYAML(ns))
	e.put("app.yaml", configMapYAML(ns, "app", map[string]string{"color": "green"}))
	planned, err := e.applier.Plan(ctx, e.in)
	if err != nil {
		t.Fatal(err)
	}
	if shown := e.plan(ctx); planned.Plan.Digest != shown.Digest {
		t.Fatalf("Plan's digest %s differs from the planner's %s", planned.Plan.Digest, shown.Digest)
	}
	// The repository moves on after the plan was made: what is applied is
	// the plan handed over, not a re-plan of the new content.
	in := e.in
	e.put("app.yaml", configMapYAML(ns, "app", map[string]string{"color": "red"}))
	res, err := e.applier.Apply(ctx, planned.Plan.Digest, in, Options{Planned: planned})
	if err != nil || !res.Converged() {
		t.Fatalf("apply: %v\n%s", err, reportString(res))
	}
	cm := get(t, gvrConfigMap, ns, "app")
	if cm == nil {
		t.Fatal("ConfigMap app not created")
	}
	if got := cm.Object["data"].(map[string]any)["color"]; got != "green" {
		t.Errorf("color = %v, want green (the plan handed over)", got)
	}
	if res.Plan != planned.Plan || res.PlanTime <= 0 {
		t.Errorf("result plan %p (want %p), plan time %s (want the handed plan's)", res.Plan, planned.Plan, res.PlanTime)
	}
	if len(res.Writes) != 2 {
		t.Errorf("writes = %d, want 2 (namespace, ConfigMap)", len(res.Writes))
	}
}
