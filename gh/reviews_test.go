package gh

import (
	"context"
	"fmt"
	"testing"

	"github.com/tugboatops/tugboat/internal/githubtest"
)

// Reviews come back in submission order, every page, with the head each
// was given on and dismissals as DISMISSED; CommitTree tells a re-push of
// the same content (same tree) from a change.
func TestReviewsAndCommitTree(t *testing.T) {
	s, c, repo := emulated(t)
	ctx := context.Background()
	first := s.Commit("acme/infra", "feature", map[string]string{"deploy/app.yaml": "kind: Secret\n"}, "change")
	n := s.OpenPR("acme/infra", githubtest.PROptions{Head: "feature", Author: "alice"})
	s.Approve("acme/infra", n, "bob")
	changes := s.Review("acme/infra", n, "carol", "CHANGES_REQUESTED", "no")
	s.DismissReview("acme/infra", n, changes, "acme")
	// Many comments push the last reviews past the first page.
	for i := range 101 {
		s.Review("acme/infra", n, fmt.Sprintf("reader%d", i), "COMMENTED", "hm")
	}
	second := s.Commit("acme/infra", "feature", map[string]string{"note.txt": "x\n"}, "note")
	s.Approve("acme/infra", n, "dave")

	got, err := c.Reviews(ctx, repo, n)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 104 {
		t.Fatalf("%d reviews, want 104 (every page)", len(got))
	}
	want := []Review{
		{User: "bob", State: "APPROVED", CommitID: first},
		{User: "carol", State: "DISMISSED", CommitID: first},
		{User: "reader0", State: "COMMENTED", CommitID: first},
	}
	for i, w := range want {
		if g := got[i]; g.User != w.User || g.State != w.State || g.CommitID != w.CommitID || g.ID == 0 || g.SubmittedAt.IsZero() {
			t.Errorf("review %d = %+v, want %+v", i, g, w)
		}
	}
	if last := got[103]; last.User != "dave" || last.State != "APPROVED" || last.CommitID != second {
		t.Errorf("last review = %+v, want dave's approval of %s", last, second)
	}

	// A revert to the first content: a new commit with the first's tree.
	third := s.Commit("acme/infra", "feature", nil, "placeholder")
	s.DeleteFiles("acme/infra", "feature", []string{"note.txt"}, "drop the note")
	back := s.HeadSHA("acme/infra", "feature")
	trees := map[string]string{}
	for name, sha := range map[string]string{"first": first, "second": second, "third": third, "back": back} {
		tree, err := c.CommitTree(ctx, repo, sha)
		if err != nil || len(tree) != 40 {
			t.Fatalf("CommitTree(%s) = %q, %v", name, tree, err)
		}
		trees[name] = tree
	}
	if trees["first"] != trees["back"] || trees["first"] == trees["second"] || trees["second"] != trees["third"] {
		t.Errorf("trees = %v: want first == back (same content) and first != second", trees)
	}
	if _, err := c.CommitTree(ctx, repo, "0123456789012345678901234567890123456789"); !IsNotFound(err) {
		t.Errorf("unknown commit: %v, want a 404", err)
	}
}
