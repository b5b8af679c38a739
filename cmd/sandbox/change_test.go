package main

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func examplesTree(t *testing.T) map[string]string {
	t.Helper()
	root, err := findModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, err := readTree(filepath.Join(root, "examples"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// The canned changes must still apply to examples/ as it is now, and do
// what the sandbox's walk-through promises.
func TestChangesApplyToExamples(t *testing.T) {
	main := examplesTree(t)
	pr, err := prChange.apply(main)
	if err != nil {
		t.Fatal(err)
	}
	write, del := difference(main, pr)
	if !reflect.DeepEqual(del, []string{"deploy/overlays/staging/debug-toolbox.yaml"}) {
		t.Errorf("deleted %v", del)
	}
	for _, want := range []string{
		"deploy/overlays/staging/kustomization.yaml",
		"deploy/overlays/staging/api-config.yaml",
		"deploy/overlays/staging/api-credentials.yaml",
		"deploy/overlays/staging/featureflags.yaml",
		"deploy/overlays/prod/kustomization.yaml",
	} {
		if _, ok := write[want]; !ok {
			t.Errorf("%s not changed", want)
		}
	}
	if len(write) != 5 {
		t.Errorf("changed %d files, want 5", len(write))
	}
	if strings.Contains(pr["deploy/overlays/staging/kustomization.yaml"], "debug-toolbox") {
		t.Error("staging still lists the removed debug-toolbox")
	}
	if _, err := followUp.apply(pr); err != nil {
		t.Errorf("follow-up on top of the PR: %v", err)
	}
	if main["deploy/overlays/staging/kustomization.yaml"] == pr["deploy/overlays/staging/kustomization.yaml"] {
		t.Error("apply modified its input")
	}
}

func TestChangeRefusesStaleEdits(t *testing.T) {
	files := map[string]string{"a.yaml": "x: 1\nx: 1\n"}
	for _, c := range []change{
		{Message: "twice", Edits: []edit{{"a.yaml", "x: 1", "x: 2"}}},
		{Message: "absent", Edits: []edit{{"a.yaml", "y: 1", "y: 2"}}},
		{Message: "no file", Edits: []edit{{"b.yaml", "x", "y"}}},
		{Message: "delete missing", Delete: []string{"b.yaml"}},
	} {
		if _, err := c.apply(files); err == nil {
			t.Errorf("%s: applied", c.Message)
		}
	}
}

func TestDifference(t *testing.T) {
	write, del := difference(
		map[string]string{"same": "1", "changed": "1", "gone": "1"},
		map[string]string{"same": "1", "changed": "2", "new": "1"},
	)
	if !reflect.DeepEqual(write, map[string]string{"changed": "2", "new": "1"}) || !reflect.DeepEqual(del, []string{"gone"}) {
		t.Errorf("write %v, delete %v", write, del)
	}
}
