package planner

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

func TestMemFSIsAnFS(t *testing.T) {
	m := NewMemFS(map[string][]byte{
		".tugboat.yaml":                   []byte("version: 1\n"),
		"deploy/base/kustomization.yaml":  []byte("resources: [app.yaml]\n"),
		"deploy/base/app.yaml":            []byte("kind: ConfigMap\n"),
		"deploy/overlays/prod/patch.yaml": []byte("kind: ConfigMap\n"),
		"README.md":                       nil,
	})
	if err := fstest.TestFS(m, ".tugboat.yaml", "deploy/base/kustomization.yaml", "deploy/base/app.yaml",
		"deploy/overlays/prod/patch.yaml", "README.md"); err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(NewMemFS(nil)); err != nil {
		t.Fatalf("empty tree: %v", err)
	}
}

func TestMemFSListsDirectoriesAndFiles(t *testing.T) {
	m := NewMemFS(map[string][]byte{
		"b/x.yaml":   []byte("x"),
		"a.yaml":     []byte("abc"),
		"b/c/y.yaml": []byte("y"),
		"../escape":  []byte("invalid path"),
		"/abs":       []byte("invalid path"),
	})
	var walked []string
	err := fs.WalkDir(m, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		kind := "f"
		if d.IsDir() {
			kind = "d"
		}
		walked = append(walked, kind+":"+p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(walked, " "), "d:. f:a.yaml d:b d:b/c f:b/c/y.yaml f:b/x.yaml"; got != want {
		t.Errorf("walk = %s, want %s", got, want)
	}
	fi, err := fs.Stat(m, "a.yaml")
	if err != nil || fi.Size() != 3 || !fi.Mode().IsRegular() {
		t.Errorf("stat a.yaml = %v, %v", fi, err)
	}
	data, _ := fs.ReadFile(m, "a.yaml")
	data[0] = 'X' // a copy: the tree must not change
	if again, _ := fs.ReadFile(m, "a.yaml"); string(again) != "abc" {
		t.Errorf("ReadFile handed out the tree's own bytes: now %q", again)
	}
	for _, name := range []string{"missing.yaml", "b/missing", "../escape"} {
		if _, err := fs.ReadFile(m, name); err == nil {
			t.Errorf("ReadFile(%q) succeeded", name)
		}
	}
	if _, err := fs.ReadFile(m, "b"); err == nil {
		t.Error("ReadFile of a directory succeeded")
	}
}

// A path that is a file and also the directory of other paths (a crafted
// tarball can say both) is the file, and listed once.
func TestMemFSFileWinsOverDirectory(t *testing.T) {
	m := NewMemFS(map[string][]byte{"a": []byte("file"), "a/b": []byte("child")})
	entries, err := fs.ReadDir(m, ".")
	if err != nil || len(entries) != 1 || entries[0].IsDir() {
		t.Fatalf("root = %v, %v: want the file a once", entries, err)
	}
	if data, err := fs.ReadFile(m, "a"); err != nil || string(data) != "file" {
		t.Errorf("a = %q, %v", data, err)
	}
	if _, err := fs.ReadDir(m, "a"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("ReadDir(a) = %v, want ErrInvalid", err)
	}
}
