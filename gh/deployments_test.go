package gh

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/palantir/go-githubapp/githubapp"
)

// CreateDeployment never waits for checks nor merges anything; statuses
// carry the log and environment URLs; a later success leaves the earlier
// deployment inactive.
func TestDeploymentsOfAnApply(t *testing.T) {
	s, c, repo := emulated(t)
	ctx := context.Background()
	sha := s.HeadSHA("acme/infra", "main")
	// A CI check still pending on the commit: GitHub would refuse a
	// deployment that waits for every context.
	s.SetStatus("acme/infra", sha, "ci", "pending", "ci-bot")
	payload := map[string]any{"commit": sha, "digest": "sha256:abc", "pr": 7}
	first, err := c.CreateDeployment(ctx, repo, Deployment{Ref: sha, Environment: "staging", Description: "apply of #7", Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	err = c.SetDeploymentStatus(ctx, repo, first, DeploymentStatus{State: "in_progress", Description: "applying", LogURL: "https://gh.example/runs/1"})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 200)
	err = c.SetDeploymentStatus(ctx, repo, first, DeploymentStatus{State: "success", Description: long, LogURL: "https://gh.example/runs/1", EnvironmentURL: "https://staging.example"})
	if err != nil {
		t.Fatal(err)
	}
	prod, err := c.CreateDeployment(ctx, repo, Deployment{Ref: sha, Environment: "prod", Production: true})
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.CreateDeployment(ctx, repo, Deployment{Ref: sha, Environment: "staging"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetDeploymentStatus(ctx, repo, second, DeploymentStatus{State: "success"}); err != nil {
		t.Fatal(err)
	}

	deps := s.Deployments("acme/infra")
	if len(deps) != 3 || deps[0].ID != first || deps[1].ID != prod || deps[2].ID != second {
		t.Fatalf("deployments = %+v", deps)
	}
	d := deps[0]
	if d.SHA != sha || d.Environment != "staging" || d.Production || d.Description != "apply of #7" || d.Creator != s.Bot().Login {
		t.Errorf("first deployment = %+v", d)
	}
	if p, _ := d.Payload.(map[string]any); p["digest"] != "sha256:abc" || p["pr"] != float64(7) {
		t.Errorf("payload = %#v", d.Payload)
	}
	var states []string
	for _, st := range d.Statuses {
		states = append(states, st.State)
	}
	if strings.Join(states, ",") != "in_progress,success,inactive" {
		t.Errorf("first deployment's states = %v, want in_progress,success,inactive", states)
	}
	if st := d.Statuses[1]; st.LogURL != "https://gh.example/runs/1" || st.EnvironmentURL != "https://staging.example" ||
		utf8.RuneCountInString(st.Description) != 140 || !strings.HasSuffix(st.Description, "x…") {
		t.Errorf("success status = %+v", st)
	}
	if !deps[1].Production || deps[1].Environment != "prod" {
		t.Errorf("prod deployment = %+v", deps[1])
	}
}

// A call refused because the installation has not accepted a permission
// is recognised, REST and GraphQL alike; other failures are not.
func TestIsPermissionMissing(t *testing.T) {
	s, c, repo, id := emulatedInstallation(t)
	ctx := context.Background()
	sha := s.HeadSHA("acme/infra", "main")
	s.SetInstallationPermission(id, "deployments", "")
	_, err := c.CreateDeployment(ctx, repo, Deployment{Ref: sha, Environment: "staging"})
	if !IsPermissionMissing(err) || !strings.Contains(err.Error(), "create deployment of acme/infra@") {
		t.Errorf("deployments not accepted: %v", err)
	}
	if err := c.SetStatus(ctx, repo, sha, Status{Context: "x", State: "success"}); err != nil || IsPermissionMissing(err) {
		t.Errorf("statuses are still granted: %v", err)
	}
	s.Commit("acme/infra", "f", map[string]string{"a": "b"}, "x")
	n := s.OpenPR("acme/infra", githubtestPR("f"))
	s.RequireMergeQueue("acme/infra", "main")
	pr, err := c.PullRequest(ctx, repo, n, MergeablePolicy{})
	if err != nil {
		t.Fatal(err)
	}
	s.SetInstallationPermission(id, "contents", "read")
	if err := c.Enqueue(ctx, pr.NodeID, pr.HeadSHA); !IsPermissionMissing(err) {
		t.Errorf("GraphQL enqueue with contents: read: %v", err)
	}
	if err := c.Merge(ctx, repo, n, pr.HeadSHA, "merge"); !IsPermissionMissing(err) {
		t.Errorf("merge with contents: read: %v", err)
	}
	s.SetInstallationPermission(id, "contents", "write")
	if err := c.Merge(ctx, repo, n, pr.HeadSHA, "merge"); err == nil || IsPermissionMissing(err) || IsNotFound(err) {
		t.Errorf("merge into a merge-queue branch: %v, want a refusal that is not about permissions", err)
	}
	if _, err := c.BranchHead(ctx, repo, "gone"); IsPermissionMissing(err) {
		t.Errorf("a 404 is not a missing permission: %v", err)
	}
}

// DeploymentsOf lists one commit's deployments to one environment, newest
// first, each with its latest state; ForRepo finds the repository's
// installation.
func TestDeploymentsOfAndForRepo(t *testing.T) {
	s, c, repo := emulated(t)
	ctx := context.Background()
	main := s.HeadSHA("acme/infra", "main")
	other := s.Commit("acme/infra", "main", map[string]string{"README.md": "x\n"}, "second")
	mk := func(sha, env string, states ...string) int64 {
		id, err := c.CreateDeployment(ctx, repo, Deployment{Ref: sha, Environment: env})
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range states {
			if err := c.SetDeploymentStatus(ctx, repo, id, DeploymentStatus{State: st, Description: st + " now"}); err != nil {
				t.Fatal(err)
			}
		}
		return id
	}
	a := mk(main, "staging", "in_progress", "failure")
	b := mk(main, "staging", "in_progress")
	mk(main, "prod", "in_progress")
	mk(other, "staging", "in_progress")
	fresh := mk(main, "staging")

	got, err := c.DeploymentsOf(ctx, repo, main, "staging")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].ID != fresh || got[1].ID != b || got[2].ID != a {
		t.Fatalf("deployments = %+v, want %d, %d, %d", got, fresh, b, a)
	}
	if got[0].State != "" || got[1].State != "in_progress" || got[2].State != "failure" || got[2].StateDescription != "failure now" {
		t.Errorf("states = %q, %q, %q", got[0].State, got[1].State, got[2].State)
	}
	if got[1].SHA != main || got[1].Environment != "staging" || got[1].Creator != s.Bot().Login {
		t.Errorf("deployment = %+v", got[1])
	}

	app := s.App()
	f := &Factory{Creator: githubapp.NewClientCreator(s.URL()+"/api/v3/", s.URL()+"/api/graphql", app.ID, app.PrivateKeyPEM)}
	rc, err := f.ForRepo(ctx, repo)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rc.DeploymentsOf(ctx, repo, other, "staging"); err != nil || len(got) != 1 {
		t.Errorf("through ForRepo's client: %+v, %v", got, err)
	}
	if _, err := f.ForRepo(ctx, Repo{Owner: "acme", Name: "missing"}); !IsNotFound(err) {
		t.Errorf("ForRepo of a repository without the app: %v, want not found", err)
	}
}

// RecentDeployments lists an environment's newest deployments, newest
// first, with their payload's commit and PR and their latest state, and no
// more than asked for.
func TestRecentDeployments(t *testing.T) {
	s, c, repo := emulated(t)
	ctx := context.Background()
	sha := s.HeadSHA("acme/infra", "main")
	var ids []int64
	for i := range 4 {
		id, err := c.CreateDeployment(ctx, repo, Deployment{Ref: sha, Environment: "staging", Description: "apply " + string(rune('a'+i)),
			Payload: map[string]any{"commit": "c" + string(rune('a'+i)), "pull_request": i + 1}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if _, err := c.CreateDeployment(ctx, repo, Deployment{Ref: sha, Environment: "prod", Payload: "not an object"}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetDeploymentStatus(ctx, repo, ids[3], DeploymentStatus{State: "success", LogURL: "https://gh.example/runs/9"}); err != nil {
		t.Fatal(err)
	}
	got, err := c.RecentDeployments(ctx, repo, "staging", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].ID != ids[3] || got[2].ID != ids[1] {
		t.Fatalf("recent = %+v, want the last 3 of staging, newest first", got)
	}
	d := got[0]
	if d.Commit != "cd" || d.PR != 4 || d.State != "success" || d.LogURL != "https://gh.example/runs/9" || d.Description != "apply d" || d.SHA != sha || d.Created.IsZero() {
		t.Errorf("newest = %+v", d)
	}
	if got[1].State != "" {
		t.Errorf("a deployment without status has state %q", got[1].State)
	}
	prod, err := c.RecentDeployments(ctx, repo, "prod", 10)
	if err != nil || len(prod) != 1 || prod[0].Commit != "" || prod[0].PR != 0 {
		t.Errorf("prod = %+v, %v", prod, err)
	}
}
