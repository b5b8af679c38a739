package githubtest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

// TestContractBites: requests GitHub would not accept are rejected with a
// 500 naming the problem and recorded as contract failures.
func TestContractBites(t *testing.T) {
	f := newFixture(t)
	_, head := f.openFeaturePR(t)

	_, resp, err := f.gh.Checks.CreateCheckRun(f.ctx, "acme", "infra", github.CreateCheckRunOptions{
		Name: "tugboat/staging", HeadSHA: head, Conclusion: github.String("bogus"),
	})
	if resp == nil || resp.StatusCode != 500 || !strings.Contains(err.Error(), "conclusion") {
		t.Errorf("conclusion bogus: %v", err)
	}

	_, resp, err = f.gh.Repositories.CreateStatus(f.ctx, "acme", "infra", head, &github.RepoStatus{
		State: github.String("kaput"), Context: github.String("tugboat/staging"),
	})
	if resp == nil || resp.StatusCode != 500 || !strings.Contains(err.Error(), "state") {
		t.Errorf("status state kaput: %v", err)
	}

	req, _ := f.gh.NewRequest("GET", "repos/acme/infra/plans/7", nil)
	resp, err = f.gh.Do(f.ctx, req, nil)
	if resp == nil || resp.StatusCode != 500 || !strings.Contains(err.Error(), "not in GitHub's API description") {
		t.Errorf("made-up path: %v", err)
	}

	req, _ = f.gh.NewRequest("GET", "repos/acme/infra/branches", nil) // GitHub has it; the emulator does not
	resp, err = f.gh.Do(f.ctx, req, nil)
	if resp == nil || resp.StatusCode != 500 || !strings.Contains(err.Error(), "does not implement") {
		t.Errorf("unemulated operation: %v", err)
	}

	failures := f.s.TakeContractFailures()
	kinds := []string{}
	for _, cf := range failures {
		kinds = append(kinds, cf.Kind)
	}
	if strings.Join(kinds, ",") != "request,request,route,not emulated" {
		t.Errorf("recorded failures = %v", failures)
	}
	if runs := f.s.CheckRuns(testRepo, head); len(runs) != 0 {
		t.Errorf("rejected check run was stored: %+v", runs)
	}
}

// TestResponsesAreChecked: a response that does not match the description
// is replaced by a 500 and recorded, so an emulator bug cannot pass for GitHub.
func TestResponsesAreChecked(t *testing.T) {
	s := New(t)
	bad := s.contractCheck(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, obj{"id": "not a number", "name": "x"})
	}))
	rec := httptest.NewRecorder()
	bad.ServeHTTP(rec, httptest.NewRequest("GET", "/repos/acme/infra/check-runs/5", nil))
	if rec.Code != 500 {
		t.Errorf("bad response passed through with %d", rec.Code)
	}
	failures := s.TakeContractFailures()
	if len(failures) != 1 || failures[0].Kind != "response" || failures[0].Operation != "/repos/{owner}/{repo}/check-runs/{check_run_id}" {
		t.Fatalf("failures = %v", failures)
	}
}

// TestDescriptionLoad reports what loading GitHub's description costs (it
// happens once per process) and what one validated request costs.
func TestDescriptionLoad(t *testing.T) {
	d, err := LoadDescription()
	if err != nil {
		t.Fatal(err)
	}
	desc, _ := sharedDescription()
	t.Logf("GitHub API description: %d paths, %d operations emulated, loaded in %s", desc.paths, desc.served, d.Round(time.Millisecond))
	if desc.paths < 700 || desc.served != len(routes()) {
		t.Errorf("description has %d paths (want GitHub's ~1000), %d served operations (want %d)", desc.paths, desc.served, len(routes()))
	}
}

// BenchmarkValidatedRequest: one GET of a pull request through the whole
// stack (go-github, token auth, routing, request and response validation).
func BenchmarkValidatedRequest(b *testing.B) {
	f := newFixture(b, WithLogf(func(string, ...any) {}))
	n, _ := f.openFeaturePR(b)
	must[*github.PullRequest](b)(f.gh.PullRequests.Get(f.ctx, "acme", "infra", n)) // fetch the token first
	for b.Loop() {
		must[*github.PullRequest](b)(f.gh.PullRequests.Get(f.ctx, "acme", "infra", n))
	}
}
