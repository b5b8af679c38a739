package planner

import (
	"strings"
	"testing"

	"github.com/tugboatops/tugboat/kube"
)

// TestPlanTakeoverNamesTheOtherSet: an object of another ApplySet is an
// update marked dangerous, naming the environment and repository it is
// taken from when that set is tugboat's, and the set's id when it is
// another tool's.
func TestPlanTakeoverNamesTheOtherSet(t *testing.T) {
	f := newFixture(t, cluster)
	f.createNamespace()
	theirs := kube.ApplySet{Repo: "acme/" + f.ns + "-theirs", Env: "prod"}
	if err := kube.WriteInventory(f.ctx, f.kc, theirs, kube.Inventory{}); err != nil {
		t.Fatal(err)
	}
	const toolSet = "applyset-c29tZS1vdGhlci10b29s-v1"
	f.applyAs("other", false, `apiVersion: v1
kind: ConfigMap
metadata:
  name: tugboats
  namespace: {{NS}}
  labels: {applyset.kubernetes.io/part-of: `+theirs.ID()+`}
data: {k: v}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: tools
  namespace: {{NS}}
  labels: {applyset.kubernetes.io/part-of: `+toolSet+`}
data: {k: v}
`)
	p := f.plan(f.env(), f.files("deploy/cm.yaml", `apiVersion: v1
kind: ConfigMap
metadata: {name: tugboats, namespace: {{NS}}}
data: {k: v}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: tools, namespace: {{NS}}}
data: {k: v}
`), nil)
	noProblems(t, p)
	for name, want := range map[string]string{
		"tugboats": "takes the object over from environment prod of " + theirs.Repo + " (ApplySet " + theirs.ID() + "): that environment manages it, and the two will keep overwriting each other",
		"tools":    "takes the object over from another ApplySet (" + toolSet + "): another repository, environment or tool manages it, and the two will keep overwriting each other",
	} {
		ch := change(t, p, "ConfigMap", name)
		if ch.Action != ActionUpdate || ch.Danger != want || !strings.Contains(ch.Diff, kube.LabelApplySetPartOf) {
			t.Errorf("%s: %s, danger\n  %q\nwant\n  %q\ndiff:\n%s", name, ch.Action, ch.Danger, want, ch.Diff)
		}
	}
}
