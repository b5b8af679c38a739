package kubetest

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestPruneCacheKeepsMostRecentlyUsed(t *testing.T) {
	root := t.TempDir()
	base := time.Now().Add(-time.Hour)
	for i, name := range []string{"a", "b", "c", "d", "e"} {
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		when := base.Add(time.Duration(i) * time.Minute)
		if err := os.Chtimes(dir, when, when); err != nil {
			t.Fatal(err)
		}
	}
	// "a" is the oldest build but was just used: it must survive.
	markUsed(filepath.Join(root, "a", "controlplane"))
	if err := os.WriteFile(filepath.Join(root, "build.lock"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	pruneCache(root, 3)
	var got []string
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		got = append(got, e.Name())
	}
	want := []string{"a", "build.lock", "d", "e"}
	if len(got) != len(want) {
		t.Fatalf("cache holds %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("cache holds %v, want %v", got, want)
		}
	}
}
