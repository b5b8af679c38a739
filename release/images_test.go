package release

import (
	"strings"
	"testing"
)

const prodKustomization = `# prod overlay
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../base
images:
  # the web front end
  - name: web
    newName: registry.example.com/web   # mirrored
    newTag: "1.5.0"
  - name: api
    newTag: 2.3.0 # pinned by SRE
  - name: untouched
    newTag: v1
namePrefix: prod-
`

func TestSetImagesKeepsCommentsOrderAndQuoting(t *testing.T) {
	out, changes, err := SetImages([]byte(prodKustomization), []Image{
		{Name: "web", NewName: "registry.example.com/web", NewTag: "1.6.0"},
		{Name: "api", NewTag: "2.3.1", Digest: "sha256:abc"},
		{Name: "worker", NewTag: "1.10"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `# prod overlay
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../base
images:
  # the web front end
  - name: web
    newName: registry.example.com/web   # mirrored
    newTag: "1.6.0"
  - name: api
    newTag: 2.3.1 # pinned by SRE
    digest: sha256:abc
  - name: untouched
    newTag: v1
  - name: worker
    newTag: "1.10"
namePrefix: prod-
`
	if string(out) != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out, want)
	}
	if len(changes) != 3 || changes[0].Before.NewTag != "1.5.0" || changes[0].After.NewTag != "1.6.0" || changes[2].Before != (Image{}) {
		t.Fatalf("changes = %+v", changes)
	}
	// Reading it back gives exactly what was set.
	got, err := ReadImages(out)
	if err != nil || len(got) != 4 || got[3] != (Image{Name: "worker", NewTag: "1.10"}) {
		t.Fatalf("ReadImages = %+v, %v", got, err)
	}
}

func TestSetImagesRemovesFieldsTheSourceLacks(t *testing.T) {
	out, _, err := SetImages([]byte("images:\n- name: web\n  newTag: '1.0'\n  digest: sha256:old\n"), []Image{{Name: "web", NewTag: "2.0"}})
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "images:\n- name: web\n  newTag: '2.0'\n" {
		t.Fatalf("got %q", out)
	}
}

func TestSetImagesWithoutImagesKey(t *testing.T) {
	out, _, err := SetImages([]byte("resources:\n- a.yaml\n"), []Image{{Name: "web", NewTag: "1.6.0"}})
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "resources:\n- a.yaml\nimages:\n- name: web\n  newTag: 1.6.0\n" {
		t.Fatalf("got %q", out)
	}
	// No trailing newline: the list still starts on its own line.
	out, _, err = SetImages([]byte("resources:\n- a.yaml"), []Image{{Name: "web", NewTag: "1.6.0"}})
	if err != nil || string(out) != "resources:\n- a.yaml\nimages:\n- name: web\n  newTag: 1.6.0\n" {
		t.Fatalf("got %q, %v", out, err)
	}
}

func TestSetImagesNothingToChange(t *testing.T) {
	in := []byte(prodKustomization)
	out, changes, err := SetImages(in, []Image{{Name: "untouched", NewTag: "v1"}})
	if err != nil || len(changes) != 0 || string(out) != prodKustomization {
		t.Fatalf("got %d changes, %v; content changed: %v", len(changes), err, string(out) != prodKustomization)
	}
}

func TestSetImagesBadInput(t *testing.T) {
	for in, want := range map[string]string{
		"images: [{name: web, newTag: '1'}]\n":  "not a block list",
		"- a\n- b\n":                            "not a YAML mapping",
		"images: [\n":                           "read kustomization",
		"images:\n- {name: web, newTag: '1'}\n": "flow style",
	} {
		_, _, err := SetImages([]byte(in), []Image{{Name: "web", NewTag: "2"}})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", in, err, want)
		}
	}
}
