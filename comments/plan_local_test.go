package comments

import (
	"strings"
	"testing"

	"github.com/tugboatops/tugboat/planner"
)

// localPlans covers every part of the local output: all actions, drift, a
// danger note, problems with and without location, a diff holding a code
// fence, and a second environment without changes.
func localPlans() []*planner.Plan {
	staging := &planner.Plan{
		Env: "staging", Cluster: "staging-cluster", Commit: "0123456789abcdef0123456789abcdef01234567",
		Changes: []planner.Change{
			{Ref: planner.ObjectRef{Version: "v1", Kind: "Namespace", Name: "apps"}, Action: planner.ActionCreate,
				Diff:   "--- live\n+++ planned\n@@ -0,0 +1,4 @@\n+apiVersion: v1\n+kind: Namespace\n+metadata:\n+  name: apps\n",
				Source: planner.Location{File: "deploy/ns.yaml", Line: 1}, FromPR: true},
			{Ref: planner.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "apps", Name: "readme"}, Action: planner.ActionUpdate,
				Diff:   "--- live\n+++ planned\n@@ -1,3 +1,3 @@\n data:\n-  README.md: \"```sh\\nold\\n```\"\n+  README.md: \"```sh\\nnew\\n```\"\n kind: ConfigMap\n",
				Source: planner.Location{File: "deploy/cm.yaml", Line: 7}, FromPR: false},
			{Ref: planner.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "apps", Name: "web"}, Action: planner.ActionUnchanged,
				Source: planner.Location{File: "deploy/web.yaml", Line: 1}},
			{Ref: planner.ObjectRef{Version: "v1", Kind: "PersistentVolumeClaim", Namespace: "apps", Name: "data"}, Action: planner.ActionDelete,
				Diff:   "--- live\n+++ planned\n@@ -1,2 +0,0 @@\n-apiVersion: v1\n-kind: PersistentVolumeClaim\n",
				FromPR: true, Danger: "deletes the claim; its volume and data may be deleted with it"},
		},
		Problems: []planner.Problem{
			{Source: planner.Location{File: "deploy/web.yaml", Line: 12}, Object: "Deployment/apps/api", Message: "needs replacement: spec.selector cannot be changed in place (field is immutable)"},
			{Message: "deletes not planned: forbidden"},
		},
		Digest: "sha256:1111111111111111111111111111111111111111111111111111111111111111",
	}
	prod := &planner.Plan{Env: "prod", Cluster: "prod", Digest: "sha256:2222222222222222222222222222222222222222222222222222222222222222"}
	return []*planner.Plan{staging, prod}
}

func TestGoldenLocalPlans(t *testing.T) {
	out := RenderLocalPlans(localPlans())
	golden(t, "local-plans", []string{out})
	r := renderMarkdown(t, out)
	// The ConfigMap's diff holds ``` itself: its block must hold the whole
	// diff, not end early.
	if len(r.diffs) != 3 || !strings.Contains(r.diffs[1], "+  README.md: \"```sh\\nnew\\n```\"\n kind: ConfigMap\n") {
		t.Errorf("diff blocks as parsed: %q", r.diffs)
	}
}

func TestLocalPlansDriftNoun(t *testing.T) {
	one := &planner.Plan{Env: "a", Changes: []planner.Change{{Action: planner.ActionUpdate, Ref: planner.ObjectRef{Kind: "ConfigMap", Name: "x"}}}}
	if out := RenderLocalPlans([]*planner.Plan{one}); !strings.Contains(out, "\n1 change is not made by this pull request") {
		t.Errorf("one drifted change:\n%s", out)
	}
	if out := RenderLocalPlans(nil); out != "" {
		t.Errorf("no plans: %q", out)
	}
}
