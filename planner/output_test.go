package planner

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/plan")

// goldenPlans covers every part of the output: all actions, drift, a
// danger note, problems with and without location, a diff holding a code
// fence, and a second environment without changes.
func goldenPlans() []*Plan {
	staging := &Plan{
		Env: "staging", Cluster: "staging-cluster", Commit: "0123456789abcdef0123456789abcdef01234567",
		Changes: []Change{
			{Ref: ObjectRef{Version: "v1", Kind: "Namespace", Name: "apps"}, Action: ActionCreate,
				Diff:   "--- live\n+++ planned\n@@ -0,0 +1,4 @@\n+apiVersion: v1\n+kind: Namespace\n+metadata:\n+  name: apps\n",
				Source: Location{File: "deploy/ns.yaml", Line: 1}, FromPR: true},
			{Ref: ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "apps", Name: "readme"}, Action: ActionUpdate,
				Diff:   "--- live\n+++ planned\n@@ -1,3 +1,3 @@\n data:\n-  README.md: \"```sh\\nold\\n```\"\n+  README.md: \"```sh\\nnew\\n```\"\n kind: ConfigMap\n",
				Source: Location{File: "deploy/cm.yaml", Line: 7}, FromPR: false},
			{Ref: ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "apps", Name: "web"}, Action: ActionUnchanged,
				Source: Location{File: "deploy/web.yaml", Line: 1}},
			{Ref: ObjectRef{Version: "v1", Kind: "PersistentVolumeClaim", Namespace: "apps", Name: "data"}, Action: ActionDelete,
				Diff:   "--- live\n+++ planned\n@@ -1,2 +0,0 @@\n-apiVersion: v1\n-kind: PersistentVolumeClaim\n",
				FromPR: true, Danger: dangerOf(ObjectRef{Kind: "PersistentVolumeClaim"}, ActionDelete)},
		},
		Problems: []Problem{
			{Source: Location{File: "deploy/web.yaml", Line: 12}, Object: "Deployment/apps/api", Message: "needs replacement: spec.selector cannot be changed in place (field is immutable)"},
			{Message: "deletes not planned: forbidden"},
		},
		Digest: "sha256:1111111111111111111111111111111111111111111111111111111111111111",
	}
	prod := &Plan{Env: "prod", Cluster: "prod", Digest: "sha256:2222222222222222222222222222222222222222222222222222222222222222"}
	return []*Plan{staging, prod}
}

func TestOutputGolden(t *testing.T) {
	for _, tc := range []struct {
		file  string
		write func(*bytes.Buffer, []*Plan) error
	}{
		{"plans.json", func(b *bytes.Buffer, p []*Plan) error { return WriteJSON(b, p) }},
		{"plans.md", func(b *bytes.Buffer, p []*Plan) error { return WriteMarkdown(b, p) }},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var got bytes.Buffer
			if err := tc.write(&got, goldenPlans()); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "plan", tc.file)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s differs from the golden file (run with -update after checking):\n%s", tc.file, got.String())
			}
		})
	}
}

func TestJSONIsTheDocumentedShape(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, goldenPlans()); err != nil {
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
	none := &Plan{Changes: []Change{{Action: ActionUnchanged}}}
	some := &Plan{Changes: []Change{{Action: ActionCreate}}}
	bad := &Plan{Problems: []Problem{{Message: "x"}}}
	for _, tc := range []struct {
		plans []*Plan
		want  int
	}{{[]*Plan{none}, 0}, {[]*Plan{none, some}, 2}, {[]*Plan{some, bad}, 1}, {nil, 0}} {
		if got := ExitCode(tc.plans); got != tc.want {
			t.Errorf("ExitCode = %d, want %d", got, tc.want)
		}
	}
}
