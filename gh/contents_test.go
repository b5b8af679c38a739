package gh

import (
	"context"
	"testing"
)

func TestFileReadsOneFileAtARef(t *testing.T) {
	s, c, repo := emulated(t)
	ctx := context.Background()
	s.Commit("acme/infra", "main", map[string]string{".tugboat.yaml": "version: 1\n"}, "add config")
	data, found, err := c.File(ctx, repo, "main", ".tugboat.yaml")
	if err != nil || !found || string(data) != "version: 1\n" {
		t.Fatalf("File(main) = %q, %v, %v; want the committed config", data, found, err)
	}
	s.Branch("acme/infra", "feature", "main")
	s.Commit("acme/infra", "feature", map[string]string{".tugboat.yaml": "version: 2\n"}, "change on a branch")
	data, _, err = c.File(ctx, repo, "main", ".tugboat.yaml")
	if err != nil || string(data) != "version: 1\n" {
		t.Errorf("File(main) after a branch commit = %q, %v; want main's", data, err)
	}
	_, found, err = c.File(ctx, repo, "main", "missing.yaml")
	if err != nil || found {
		t.Errorf("File(missing) = found %v, %v; want not found, no error", found, err)
	}
}
