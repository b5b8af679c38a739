package gh

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tugboatops/tugboat/internal/githubtest"
)

// emulated returns a client for acme/infra's installation, wired the way
// `bot serve` wires it (go-githubapp's client creator with Transport).
func emulated(t *testing.T) (*githubtest.Server, *Client, Repo) {
	t.Helper()
	s, c, repo, _ := emulatedInstallation(t)
	return s, c, repo
}

// emulatedInstallation is emulated with the installation's id.
func emulatedInstallation(t *testing.T) (*githubtest.Server, *Client, Repo, int64) {
	t.Helper()
	s := githubtest.New(t, githubtest.WithLogf(func(string, ...any) {}))
	s.CreateRepo("acme/infra", githubtest.RepoOptions{Files: map[string]string{"deploy/app.yaml": "kind: ConfigMap\n"}})
	id := s.CreateInstallation("acme")
	app := s.App()
	m := NewMetrics(prometheus.NewRegistry())
	cc := githubapp.NewClientCreator(s.URL()+"/api/v3/", s.URL()+"/api/graphql", app.ID, app.PrivateKeyPEM,
		githubapp.WithClientMiddleware(Middleware(RetryPolicy{Backoff: 10 * time.Millisecond}, m)))
	f := &Factory{Creator: cc, Download: &http.Client{Transport: &Transport{Metrics: m}}}
	c, err := f.Installation(id)
	if err != nil {
		t.Fatal(err)
	}
	slug, err := f.AppSlug(context.Background())
	if err != nil || slug != app.Slug {
		t.Fatalf("AppSlug = %q, %v", slug, err)
	}
	return s, c, Repo{Owner: "acme", Name: "infra"}, id
}

func TestCheckRunAnnotationsInBatches(t *testing.T) {
	s, c, repo := emulated(t)
	ctx := context.Background()
	sha := s.HeadSHA("acme/infra", "main")
	var anns []Annotation
	for i := 1; i <= 120; i++ {
		anns = append(anns, Annotation{Path: "deploy/app.yaml", StartLine: i, Level: "failure", Message: fmt.Sprint("problem ", i)})
	}
	id, err := c.CreateCheckRun(ctx, repo, CheckRun{Name: "tugboat/staging", HeadSHA: sha, Status: "in_progress", Title: "Planning", Summary: "…"})
	if err != nil {
		t.Fatal(err)
	}
	err = c.UpdateCheckRun(ctx, repo, id, CheckRun{Name: "tugboat/staging", Status: "completed", Conclusion: "failure",
		Title: "120 problems", Summary: "see annotations", ExternalID: "digest", Annotations: anns,
		Actions: []Action{{Label: "Re-plan", Description: "Plan again", Identifier: "plan"}}})
	if err != nil {
		t.Fatal(err)
	}
	runs := s.CheckRuns("acme/infra", sha)
	if len(runs) != 1 {
		t.Fatalf("%d check runs", len(runs))
	}
	r := runs[0]
	if r.Conclusion != "failure" || r.ExternalID != "digest" || len(r.Annotations) != 120 || len(r.Actions) != 1 {
		t.Errorf("check run = %s %q, %d annotations, %d actions; want failure, digest, 120, 1", r.Conclusion, r.ExternalID, len(r.Annotations), len(r.Actions))
	}
}

// TestCheckRunAnnotationsCapped: of 1,200 annotations, the first
// MaxAnnotationsSent reach the check run (ten requests), on create and on
// update alike.
func TestCheckRunAnnotationsCapped(t *testing.T) {
	s, c, repo := emulated(t)
	ctx := context.Background()
	sha := s.HeadSHA("acme/infra", "main")
	var anns []Annotation
	for i := 1; i <= 1200; i++ {
		anns = append(anns, Annotation{Path: "deploy/app.yaml", StartLine: i, Level: "failure", Message: fmt.Sprint("problem ", i)})
	}
	run := CheckRun{Name: "tugboat/staging", HeadSHA: sha, Status: "completed", Conclusion: "failure",
		Title: "1200 problems", Summary: "see annotations", Annotations: anns}
	if _, err := c.CreateCheckRun(ctx, repo, run); err != nil {
		t.Fatal(err)
	}
	run.Name = "tugboat/prod"
	id, err := c.CreateCheckRun(ctx, repo, CheckRun{Name: run.Name, HeadSHA: sha, Status: "in_progress"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateCheckRun(ctx, repo, id, run); err != nil {
		t.Fatal(err)
	}
	runs := s.CheckRuns("acme/infra", sha)
	if len(runs) != 2 {
		t.Fatalf("%d check runs", len(runs))
	}
	for _, r := range runs {
		if len(r.Annotations) != MaxAnnotationsSent {
			t.Errorf("%s has %d annotations, want %d", r.Name, len(r.Annotations), MaxAnnotationsSent)
			continue
		}
		first, last := r.Annotations[0]["start_line"], r.Annotations[MaxAnnotationsSent-1]["start_line"]
		if fmt.Sprint(first) != "1" || fmt.Sprint(last) != fmt.Sprint(MaxAnnotationsSent) {
			t.Errorf("%s: annotations from line %v to %v, want the first %d", r.Name, first, last, MaxAnnotationsSent)
		}
	}
}

func TestCommentsMinimizeAndTarball(t *testing.T) {
	s, c, repo := emulated(t)
	ctx := context.Background()
	s.Commit("acme/infra", "feature", map[string]string{"deploy/app.yaml": "kind: Secret\n"}, "change")
	n := s.OpenPR("acme/infra", githubtest.PROptions{Head: "feature", Author: "alice"})
	pr, err := c.PullRequest(ctx, repo, n, MergeablePolicy{})
	if err != nil {
		t.Fatal(err)
	}
	if !pr.Mergeable || pr.MergeCommitSHA == "" || pr.FromFork {
		t.Fatalf("PR = %+v", pr)
	}
	base, err := c.FirstParent(ctx, repo, pr.MergeCommitSHA)
	if err != nil || base != s.HeadSHA("acme/infra", "main") {
		t.Errorf("first parent of the test merge = %s, %v; want main's head", base, err)
	}
	tree, err := c.Tarball(ctx, repo, pr.MergeCommitSHA)
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := tree.Files["deploy/app.yaml"]; !ok || string(b) != "kind: Secret\n" {
		t.Errorf("tarball deploy/app.yaml = %q, found %v", b, ok)
	}

	cm, err := c.CreateComment(ctx, repo, n, "first")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.EditComment(ctx, repo, cm.ID, "edited"); err != nil {
		t.Fatal(err)
	}
	if err := c.MinimizeOutdated(ctx, cm.NodeID); err != nil {
		t.Fatal(err)
	}
	other, _ := c.CreateComment(ctx, repo, n, "second")
	if err := c.DeleteComment(ctx, repo, other.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.React(ctx, repo, cm.ID, "eyes"); err != nil {
		t.Fatal(err)
	}
	got := s.Comments("acme/infra", n)
	if len(got) != 1 || got[0].Body != "edited" || got[0].Minimized != "OUTDATED" || len(got[0].Reactions) != 1 {
		t.Errorf("comments = %+v", got)
	}
	listed, err := c.Comments(ctx, repo, n)
	if err != nil || len(listed) != 1 || listed[0].Author != s.Bot().Login {
		t.Errorf("Comments = %+v, %v", listed, err)
	}
	s.SetPermission("acme/infra", "bob", "read")
	s.SetPermission("acme/infra", "carol", "write")
	if ok, err := c.CanWrite(ctx, repo, "carol"); err != nil || !ok {
		t.Errorf("CanWrite(carol, write) = %v, %v", ok, err)
	}
	if ok, err := c.CanWrite(ctx, repo, "bob"); err != nil || ok {
		t.Errorf("CanWrite(bob, read) = %v, %v", ok, err)
	}
}

// mergeable: null is waited out.
func TestPullRequestWaitsForMergeable(t *testing.T) {
	s := githubtest.New(t, githubtest.WithLogf(func(string, ...any) {}), githubtest.WithMergeableDelay(600*time.Millisecond))
	s.CreateRepo("acme/infra", githubtest.RepoOptions{})
	id := s.CreateInstallation("acme")
	app := s.App()
	cc := githubapp.NewClientCreator(s.URL()+"/", s.GraphQLURL(), app.ID, app.PrivateKeyPEM)
	f := &Factory{Creator: cc}
	c, _ := f.Installation(id)
	s.Commit("acme/infra", "f", map[string]string{"a": "b"}, "x")
	n := s.OpenPR("acme/infra", githubtest.PROptions{Head: "f", Author: "alice"})
	start := time.Now()
	pr, err := c.PullRequest(context.Background(), Repo{"acme", "infra"}, n, MergeablePolicy{Interval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !pr.Mergeable || pr.MergeCommitSHA == "" {
		t.Errorf("PR = %+v", pr)
	}
	if time.Since(start) < 500*time.Millisecond {
		t.Errorf("returned after %s, before GitHub computed mergeability", time.Since(start))
	}
}

// githubtestPR opens a pull request of head by alice.
func githubtestPR(head string) githubtest.PROptions {
	return githubtest.PROptions{Head: head, Author: "alice"}
}
