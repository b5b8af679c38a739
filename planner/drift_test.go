package planner

import "testing"

func TestPlanTellsDriftFromPRChanges(t *testing.T) {
	f := newFixture(t, cluster)
	f.createNamespace()
	cm := func(name, v string) string {
		return "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: {{NS}}}\ndata: {v: \"" + v + "\"}\n"
	}
	// Deployed from the base branch, then someone edited "drifted" by hand.
	f.apply(cm("edited-by-pr", "1") + cm("drifted", "1") + cm("untouched", "1"))
	f.applyAs("someone", false, cm("drifted", "9"))

	base := f.files("deploy/cm.yaml", cm("edited-by-pr", "1")+cm("drifted", "1")+cm("untouched", "1"))
	head := f.files("deploy/cm.yaml", cm("edited-by-pr", "2")+cm("drifted", "1")+cm("untouched", "1")+cm("added-by-pr", "1"))
	p := f.plan(f.env(), head, base)
	noProblems(t, p)
	for name, want := range map[string]struct {
		action Action
		fromPR bool
	}{
		"edited-by-pr": {ActionUpdate, true},
		"added-by-pr":  {ActionCreate, true},
		"drifted":      {ActionUpdate, false},
		"untouched":    {ActionUnchanged, false},
	} {
		c := change(t, p, "ConfigMap", name)
		if c.Action != want.action || c.FromPR != want.fromPR {
			t.Errorf("%s: %s fromPR=%v, want %s fromPR=%v", name, c.Action, c.FromPR, want.action, want.fromPR)
		}
	}

	// Without a base, everything is the PR's.
	noBase := f.plan(f.env(), head, nil)
	if c := change(t, noBase, "ConfigMap", "drifted"); !c.FromPR {
		t.Errorf("without a base, a change is not marked from the PR")
	}
}
