package gh

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/tugboatops/tugboat/internal/githubtest"
)

func TestCommitFilesBranchAndPull(t *testing.T) {
	s, c, repo := emulated(t)
	ctx := context.Background()
	main := s.HeadSHA("acme/infra", "main")
	sha, err := c.CommitFiles(ctx, repo, main, map[string][]byte{"deploy/app.yaml": []byte("kind: Secret\n"), "new/file.txt": []byte("hello\n")}, "promote")
	if err != nil {
		t.Fatal(err)
	}
	if _, found, err := c.BranchSHA(ctx, repo, "tugboat/promote-a-to-b"); err != nil || found {
		t.Fatalf("BranchSHA before creation = %v, %v", found, err)
	}
	if err := c.SetBranch(ctx, repo, "tugboat/promote-a-to-b", sha, true, false); err != nil {
		t.Fatal(err)
	}
	if got, found, err := c.BranchSHA(ctx, repo, "tugboat/promote-a-to-b"); err != nil || !found || got != sha {
		t.Fatalf("BranchSHA = %s, %v, %v; want %s", got, found, err, sha)
	}
	data, _, err := c.File(ctx, repo, sha, "new/file.txt")
	if err != nil || string(data) != "hello\n" {
		t.Fatalf("new/file.txt = %q, %v", data, err)
	}
	info, err := c.Commit(ctx, repo, sha)
	if err != nil || len(info.Parents) != 1 || info.Parents[0] != main || info.Message != "promote" || info.Author == "" {
		t.Fatalf("Commit = %+v, %v", info, err)
	}
	n, url, err := c.OpenPull(ctx, repo, NewPull{Head: "tugboat/promote-a-to-b", Base: "main", Title: "Promote", Body: "body"})
	if err != nil || n == 0 || url == "" {
		t.Fatalf("OpenPull = %d, %q, %v", n, url, err)
	}
	if got, _, err := c.OpenPullFrom(ctx, repo, "tugboat/promote-a-to-b"); err != nil || got != n {
		t.Fatalf("OpenPullFrom = %d, %v; want %d", got, err, n)
	}
	if got, _, err := c.OpenPullFrom(ctx, repo, "other"); err != nil || got != 0 {
		t.Fatalf("OpenPullFrom(other) = %d, %v", got, err)
	}
	if err := c.EditPull(ctx, repo, n, "Promote again", "new body"); err != nil {
		t.Fatal(err)
	}
	if p := s.PR("acme/infra", n); p.Title != "Promote again" || p.Body != "new body" {
		t.Fatalf("after EditPull: %q %q", p.Title, p.Body)
	}
	// A second commit on main's head, not on top of sha: moving the branch
	// there is not a fast-forward, refused without force.
	other, err := c.CommitFiles(ctx, repo, main, map[string][]byte{"deploy/app.yaml": nil}, "remove")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetBranch(ctx, repo, "tugboat/promote-a-to-b", other, false, false); err == nil {
		t.Fatal("a non-fast-forward move without force was accepted")
	}
	if err := c.SetBranch(ctx, repo, "tugboat/promote-a-to-b", other, false, true); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := c.File(ctx, repo, "tugboat/promote-a-to-b", "deploy/app.yaml"); found {
		t.Fatal("deploy/app.yaml still exists after the commit deleting it")
	}
	if p := s.PR("acme/infra", n); p.HeadSHA != other {
		t.Fatalf("PR head = %s after the force-push, want %s", p.HeadSHA, other)
	}
}

func TestRevertPull(t *testing.T) {
	s, c, repo := emulated(t)
	ctx := context.Background()
	s.Commit("acme/infra", "bump", map[string]string{"deploy/app.yaml": "kind: ConfigMap\nversion: 2\n"}, "bump")
	n := s.OpenPR("acme/infra", githubtest.PROptions{Head: "bump", Title: "Bump to 2"})
	pr, err := c.PullRequest(ctx, repo, n, MergeablePolicy{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.RevertPull(ctx, pr.NodeID, "", ""); !errors.Is(err, ErrCannotRevert) {
		t.Fatalf("reverting an unmerged PR: %v, want ErrCannotRevert", err)
	}
	s.Merge("acme/infra", n, "alice")
	rn, url, err := c.RevertPull(ctx, pr.NodeID, "", "")
	if err != nil || rn == 0 || url == "" {
		t.Fatalf("RevertPull = %d, %q, %v", rn, url, err)
	}
	rv := s.PR("acme/infra", rn)
	if rv.Title != `Revert "Bump to 2"` || rv.Body != "Reverts acme/infra#"+strconv.Itoa(n) {
		t.Fatalf("revert PR: %q / %q", rv.Title, rv.Body)
	}
	data, _, err := c.File(ctx, repo, rv.HeadSHA, "deploy/app.yaml")
	if err != nil || string(data) != "kind: ConfigMap\n" {
		t.Fatalf("deploy/app.yaml on the revert = %q, %v", data, err)
	}
	s.Merge("acme/infra", rn, "alice")
	// Reverted already: the inverse is empty.
	if _, _, err := c.RevertPull(ctx, pr.NodeID, "", ""); !errors.Is(err, ErrCannotRevert) {
		t.Fatalf("reverting a reverted PR: %v, want ErrCannotRevert", err)
	}
}

func TestRevertPullConflict(t *testing.T) {
	s, c, repo := emulated(t)
	ctx := context.Background()
	s.Commit("acme/infra", "bump", map[string]string{"deploy/app.yaml": "kind: ConfigMap\nversion: 2\n"}, "bump")
	n := s.OpenPR("acme/infra", githubtest.PROptions{Head: "bump", Title: "Bump"})
	s.Merge("acme/infra", n, "alice")
	s.Commit("acme/infra", "main", map[string]string{"deploy/app.yaml": "kind: ConfigMap\nversion: 3\n"}, "later")
	pr, err := c.PullRequest(ctx, repo, n, MergeablePolicy{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.RevertPull(ctx, pr.NodeID, "Roll back", ""); !errors.Is(err, ErrCannotRevert) {
		t.Fatalf("reverting over a later change of the same line: %v, want ErrCannotRevert", err)
	}
	files, err := c.PullFiles(ctx, repo, n)
	if err != nil || len(files) != 1 || files[0] != "deploy/app.yaml" {
		t.Fatalf("PullFiles = %v, %v", files, err)
	}
}
