package ops

import (
	"strings"
	"testing"
)

func TestChangedFilesAndTouches(t *testing.T) {
	base := map[string][]byte{
		"deploy/staging/a.yaml": []byte("a"),
		"deploy/prod/b.yaml":    []byte("b"),
		"gone.txt":              []byte("x"),
	}
	merge := map[string][]byte{
		"deploy/staging/a.yaml":  []byte("a2"),
		"deploy/prod/b.yaml":     []byte("b"),
		"deploy/stagingx/c.yaml": []byte("c"),
	}
	changed := changedFiles(base, merge)
	if got := strings.Join(changed, ","); got != "deploy/staging/a.yaml,deploy/stagingx/c.yaml,gone.txt" {
		t.Errorf("changed = %s", got)
	}
	for dir, want := range map[string]bool{"deploy/staging": true, "deploy/prod": false, "deploy/stagingx": true, "deploy/stag": false, ".": true} {
		if got := touches(changed, dir); got != want {
			t.Errorf("touches(%s) = %v, want %v", dir, got, want)
		}
	}
	if touches(nil, ".") {
		t.Error("no change touches nothing")
	}
}
