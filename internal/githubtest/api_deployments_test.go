package githubtest

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

func noContexts() *[]string { return &[]string{} }

// TestDeploymentsAndStatuses: deployments are created for a SHA, listed
// newest first and filtered; a success status marks the environment's
// earlier successful deployment inactive.
func TestDeploymentsAndStatuses(t *testing.T) {
	f := newFixture(t)
	n, head := f.openFeaturePR(t)
	create := func(ref, env string, payload any) *github.Deployment {
		t.Helper()
		return must[*github.Deployment](t)(f.gh.Repositories.CreateDeployment(f.ctx, "acme", "infra", &github.DeploymentRequest{
			Ref: github.String(ref), Environment: github.String(env), AutoMerge: github.Bool(false),
			RequiredContexts: noContexts(), Description: github.String("apply #" + itoa(n)), Payload: payload,
		}))
	}
	status := func(d *github.Deployment, state string) *github.DeploymentStatus {
		t.Helper()
		return must[*github.DeploymentStatus](t)(f.gh.Repositories.CreateDeploymentStatus(f.ctx, "acme", "infra", d.GetID(), &github.DeploymentStatusRequest{
			State: github.String(state), LogURL: github.String("https://ci.example/run/1"), EnvironmentURL: github.String("https://staging.example"),
			Description: github.String("converged"),
		}))
	}
	first := create(head, "staging", map[string]any{"digest": "abc", "pr": n})
	if first.GetSHA() != head || first.GetEnvironment() != "staging" || first.GetCreator().GetLogin() != f.s.Bot().Login || first.GetTask() != "deploy" {
		t.Errorf("created = sha %s env %s creator %s task %s", first.GetSHA(), first.GetEnvironment(), first.GetCreator().GetLogin(), first.GetTask())
	}
	st := status(first, "in_progress")
	if st.GetState() != "in_progress" || st.GetTargetURL() != "https://ci.example/run/1" || st.GetEnvironmentURL() != "https://staging.example" {
		t.Errorf("status = %s target %s env url %s; log_url also sets target_url", st.GetState(), st.GetTargetURL(), st.GetEnvironmentURL())
	}
	status(first, "success")

	main := f.s.HeadSHA(testRepo, "main")
	prod := create(main, "prod", "a string payload")
	second := create("feature", "staging", nil)
	if second.GetSHA() != head || second.GetRef() != "feature" {
		t.Errorf("a branch ref deploys its head: sha %s ref %s", second.GetSHA(), second.GetRef())
	}
	status(second, "success")

	all := must[[]*github.Deployment](t)(f.gh.Repositories.ListDeployments(f.ctx, "acme", "infra", nil))
	if len(all) != 3 || all[0].GetID() != second.GetID() || all[2].GetID() != first.GetID() {
		t.Fatalf("deployments, newest first = %v", ids(all))
	}
	staging := must[[]*github.Deployment](t)(f.gh.Repositories.ListDeployments(f.ctx, "acme", "infra", &github.DeploymentsListOptions{Environment: "staging"}))
	if len(staging) != 2 {
		t.Errorf("environment filter: %v", ids(staging))
	}
	bySHA := must[[]*github.Deployment](t)(f.gh.Repositories.ListDeployments(f.ctx, "acme", "infra", &github.DeploymentsListOptions{SHA: main}))
	if len(bySHA) != 1 || bySHA[0].GetID() != prod.GetID() {
		t.Errorf("sha filter: %v", ids(bySHA))
	}
	got := must[*github.Deployment](t)(f.gh.Repositories.GetDeployment(f.ctx, "acme", "infra", prod.GetID()))
	if got.GetEnvironment() != "prod" || string(got.Payload) != `"a string payload"` {
		t.Errorf("get: env %s payload %s", got.GetEnvironment(), got.Payload)
	}

	// The first staging deployment was success; the second's success made it inactive.
	statuses := must[[]*github.DeploymentStatus](t)(f.gh.Repositories.ListDeploymentStatuses(f.ctx, "acme", "infra", first.GetID(), nil))
	var states []string
	for _, s := range statuses {
		states = append(states, s.GetState())
	}
	if strings.Join(states, ",") != "inactive,success,in_progress" {
		t.Errorf("first deployment's statuses, newest first = %v", states)
	}
	deps := f.s.Deployments(testRepo)
	if len(deps) != 3 || deps[0].State() != "inactive" || deps[2].State() != "success" || deps[1].State() != "" {
		t.Errorf("inspected states = %q %q %q", deps[0].State(), deps[1].State(), deps[2].State())
	}
	if p, _ := deps[0].Payload.(map[string]any); p["digest"] != "abc" || deps[0].Description != "apply #1" || deps[0].Creator != f.s.Bot().Login {
		t.Errorf("inspected first deployment = %+v", deps[0])
	}
}

func ids(ds []*github.Deployment) []int64 {
	var out []int64
	for _, d := range ds {
		out = append(out, d.GetID())
	}
	return out
}

// TestDeploymentAutoInactive: auto_inactive false keeps the earlier
// success; production and transient deployments are never made inactive.
func TestDeploymentAutoInactive(t *testing.T) {
	f := newFixture(t)
	main := f.s.HeadSHA(testRepo, "main")
	deploy := func(env string, production, transient bool, autoInactive *bool) int64 {
		t.Helper()
		d := must[*github.Deployment](t)(f.gh.Repositories.CreateDeployment(f.ctx, "acme", "infra", &github.DeploymentRequest{
			Ref: github.String(main), Environment: github.String(env), AutoMerge: github.Bool(false), RequiredContexts: noContexts(),
			ProductionEnvironment: github.Bool(production), TransientEnvironment: github.Bool(transient),
		}))
		must[*github.DeploymentStatus](t)(f.gh.Repositories.CreateDeploymentStatus(f.ctx, "acme", "infra", d.GetID(), &github.DeploymentStatusRequest{
			State: github.String("success"), AutoInactive: autoInactive,
		}))
		return d.GetID()
	}
	deploy("qa", false, false, nil)
	deploy("qa", false, false, github.Bool(false))
	deploy("prod", true, false, nil)
	deploy("prod", true, false, nil)
	deploy("review", false, true, nil)
	deploy("review", false, false, nil)
	var states []string
	for _, d := range f.s.Deployments(testRepo) {
		states = append(states, d.Environment+":"+d.State())
	}
	if got := strings.Join(states, " "); got != "qa:success qa:success prod:success prod:success review:success review:success" {
		t.Errorf("states = %s", got)
	}
	deploy("qa", false, false, nil)
	states = nil
	for _, d := range f.s.Deployments(testRepo)[:2] {
		states = append(states, d.State())
	}
	if strings.Join(states, ",") != "inactive,inactive" {
		t.Errorf("a third qa success leaves the earlier ones %v, want inactive", states)
	}
}

// TestDeploymentWaitsForContexts: without required_contexts, GitHub
// refuses (409) while any context on the commit has not succeeded; []
// skips the check; a named context must have succeeded.
func TestDeploymentWaitsForContexts(t *testing.T) {
	f := newFixture(t)
	_, head := f.openFeaturePR(t)
	f.s.SetStatus(testRepo, head, "ci", "pending", "ci-bot")
	must[*github.CheckRun](t)(f.gh.Checks.CreateCheckRun(f.ctx, "acme", "infra", github.CreateCheckRunOptions{
		Name: "lint", HeadSHA: head, Conclusion: github.String("success")}))
	try := func(contexts *[]string) (*github.Response, error) {
		_, resp, err := f.gh.Repositories.CreateDeployment(f.ctx, "acme", "infra", &github.DeploymentRequest{
			Ref: github.String(head), AutoMerge: github.Bool(false), RequiredContexts: contexts, Environment: github.String("staging"),
		})
		return resp, err
	}
	resp, err := try(nil)
	if resp == nil || resp.StatusCode != http.StatusConflict || !strings.Contains(err.Error(), "Commit status checks failed") {
		t.Errorf("pending ci, contexts omitted: %v", err)
	}
	if resp, err := try(&[]string{"lint"}); err != nil || resp.StatusCode != http.StatusCreated {
		t.Errorf("only lint required (succeeded): %v", err)
	}
	if resp, err := try(&[]string{"lint", "e2e"}); resp == nil || resp.StatusCode != http.StatusConflict {
		t.Errorf("e2e never reported: %v", err)
	}
	if _, err := try(noContexts()); err != nil {
		t.Errorf("required_contexts []: %v", err)
	}
	f.s.SetStatus(testRepo, head, "ci", "success", "ci-bot")
	if _, err := try(nil); err != nil {
		t.Errorf("every context succeeded: %v", err)
	}
	if n := len(f.s.Deployments(testRepo)); n != 3 {
		t.Errorf("%d deployments, want 3", n)
	}
	_, resp, err = f.gh.Repositories.CreateDeployment(f.ctx, "acme", "infra", &github.DeploymentRequest{Ref: github.String("nope"), AutoMerge: github.Bool(false)})
	if resp == nil || resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), "No ref found for: nope") {
		t.Errorf("unknown ref: %v", err)
	}
}

// TestDeploymentAutoMerge: auto_merge (GitHub's default) merges the
// default branch into a branch that lacks it and creates no deployment.
func TestDeploymentAutoMerge(t *testing.T) {
	f := newFixture(t)
	rc := listen(t, f.s)
	_, head := f.openFeaturePR(t)
	f.s.Commit(testRepo, "main", map[string]string{"deploy/other.yaml": "kind: ConfigMap\n"}, "other")
	d, resp, err := f.gh.Repositories.CreateDeployment(f.ctx, "acme", "infra", &github.DeploymentRequest{
		Ref: github.String("feature"), RequiredContexts: noContexts(),
	})
	var accepted *github.AcceptedError
	if !errors.As(err, &accepted) || resp.StatusCode != http.StatusAccepted || d.GetID() != 0 || !strings.Contains(string(accepted.Raw), "Auto-merged main into feature on deployment.") {
		t.Fatalf("deploying a branch behind main: %d %v", resp.StatusCode, err)
	}
	after := f.s.HeadSHA(testRepo, "feature")
	c := must[*github.Commit](t)(f.gh.Git.GetCommit(f.ctx, "acme", "infra", after))
	if len(c.Parents) != 2 || c.Parents[0].GetSHA() != head || c.Parents[1].GetSHA() != f.s.HeadSHA(testRepo, "main") {
		t.Errorf("feature's new head %s has parents %v, want [feature main]", after, c.Parents)
	}
	if n := len(f.s.Deployments(testRepo)); n != 0 {
		t.Errorf("%d deployments created by an auto-merge answer", n)
	}
	f.s.WaitForDeliveries()
	pushed := false
	for _, r := range rc.got() {
		if p, ok := r.parsed.(*github.PushEvent); ok && p.GetRef() == "refs/heads/feature" && p.GetAfter() == after {
			pushed = true
		}
	}
	if !pushed {
		t.Errorf("the auto-merge was not announced with a push")
	}
	// Now feature contains main: the deployment is created.
	if _, resp, err := f.gh.Repositories.CreateDeployment(f.ctx, "acme", "infra", &github.DeploymentRequest{
		Ref: github.String("feature"), RequiredContexts: noContexts(),
	}); err != nil || resp.StatusCode != http.StatusCreated {
		t.Errorf("second attempt: %v", err)
	}
}

// TestDeploymentStatusLimits: a description over 140 characters is
// refused; an unknown deployment is 404.
func TestDeploymentStatusLimits(t *testing.T) {
	f := newFixture(t)
	d := must[*github.Deployment](t)(f.gh.Repositories.CreateDeployment(f.ctx, "acme", "infra", &github.DeploymentRequest{
		Ref: github.String("main"), AutoMerge: github.Bool(false), RequiredContexts: noContexts(),
	}))
	if got := f.s.Deployments(testRepo)[0]; got.Environment != "production" || !got.Production || got.Task != "deploy" {
		t.Errorf("defaults: env %s production %v task %s", got.Environment, got.Production, got.Task)
	}
	_, resp, err := f.gh.Repositories.CreateDeploymentStatus(f.ctx, "acme", "infra", d.GetID(), &github.DeploymentStatusRequest{
		State: github.String("success"), Description: github.String(strings.Repeat("é", 141)),
	})
	if resp == nil || resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), "maximum is 140 characters") {
		t.Errorf("141 characters: %v", err)
	}
	if _, _, err := f.gh.Repositories.CreateDeploymentStatus(f.ctx, "acme", "infra", d.GetID(), &github.DeploymentStatusRequest{
		State: github.String("success"), Description: github.String(strings.Repeat("é", 140)),
	}); err != nil {
		t.Errorf("140 characters: %v", err)
	}
	_, resp, _ = f.gh.Repositories.GetDeployment(f.ctx, "acme", "infra", d.GetID()+1000)
	if resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown deployment: %v", resp)
	}
}
