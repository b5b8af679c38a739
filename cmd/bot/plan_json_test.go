package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/tugboatops/tugboat/planner"
)

var update = flag.Bool("update", false, "rewrite testdata/plans.json")

// jsonPlans covers every field of the JSON document: all actions, drift, a
// danger note, problems with and without location, and a second
// environment without changes (whose lists must be [], not null).
func jsonPlans() []*planner.Plan {
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

func TestJSONGolden(t *testing.T) {
	var got bytes.Buffer
	if err := writeJSON(&got, jsonPlans()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "plans.json")
	if *update {
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("plans.json differs from the golden file (run with -update after checking):\n%s", got.String())
	}
}

func TestJSONIsTheDocumentedShape(t *testing.T) {
	var b bytes.Buffer
	if err := writeJSON(&b, jsonPlans()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version int `json:"version"`
		Plans   []map[string]json.RawMessage
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != 1 || len(doc.Plans) != 2 {
		t.Fatalf("version %d, %d plans", doc.Version, len(doc.Plans))
	}
	for _, k := range []string{"env", "cluster", "headSHA", "digest", "counts", "changes", "problems"} {
		if _, ok := doc.Plans[1][k]; !ok {
			t.Errorf("plan lacks %q", k)
		}
	}
	if string(doc.Plans[1]["changes"]) != "[]" || string(doc.Plans[1]["problems"]) != "[]" {
		t.Errorf("empty lists must be [], got %s and %s", doc.Plans[1]["changes"], doc.Plans[1]["problems"])
	}
	var changes []map[string]any
	if err := json.Unmarshal(doc.Plans[0]["changes"], &changes); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"group", "version", "kind", "namespace", "name", "action", "fromPR", "danger", "diff", "source"} {
		if _, ok := changes[0][k]; !ok {
			t.Errorf("change lacks %q", k)
		}
	}
}

func TestExitCode(t *testing.T) {
	none := &planner.Plan{Changes: []planner.Change{{Action: planner.ActionUnchanged}}}
	some := &planner.Plan{Changes: []planner.Change{{Action: planner.ActionCreate}}}
	bad := &planner.Plan{Problems: []planner.Problem{{Message: "x"}}}
	for _, tc := range []struct {
		plans []*planner.Plan
		want  int
	}{{[]*planner.Plan{none}, 0}, {[]*planner.Plan{none, some}, 2}, {[]*planner.Plan{some, bad}, 1}, {nil, 0}} {
		if got := exitCode(tc.plans); got != tc.want {
			t.Errorf("exitCode = %d, want %d", got, tc.want)
		}
	}
}
