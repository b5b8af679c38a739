package githubtest

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

func TestFaultThenRecovery(t *testing.T) {
	f := newFixture(t)
	n, _ := f.openFeaturePR(t)
	f.s.Fault("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", Fault{Status: 502, Times: 2})
	for i := 0; i < 2; i++ {
		_, resp, err := f.gh.PullRequests.Get(f.ctx, "acme", "infra", n)
		if resp == nil || resp.StatusCode != 502 {
			t.Fatalf("call %d: %v, want 502", i+1, err)
		}
	}
	if _, _, err := f.gh.PullRequests.Get(f.ctx, "acme", "infra", n); err != nil {
		t.Errorf("third call after two faults: %v", err)
	}
	if f.s.FaultsLeft() != 0 {
		t.Errorf("faults left = %d", f.s.FaultsLeft())
	}
	// Other endpoints were never affected.
	if _, _, err := f.gh.Issues.ListComments(f.ctx, "acme", "infra", n, nil); err != nil {
		t.Errorf("unfaulted endpoint: %v", err)
	}
}

func TestSecondaryRateLimit(t *testing.T) {
	f := newFixture(t)
	n, _ := f.openFeaturePR(t)
	f.s.Fault("POST", "/repos/acme/infra/issues/*/comments", Fault{SecondaryRateLimit: true, RetryAfter: time.Second})
	_, _, err := f.gh.Issues.CreateComment(f.ctx, "acme", "infra", n, &github.IssueComment{Body: github.String("plan")})
	var abuse *github.AbuseRateLimitError
	if !errors.As(err, &abuse) || abuse.GetRetryAfter() != time.Second {
		t.Fatalf("err = %v, want go-github's AbuseRateLimitError with Retry-After 1s", err)
	}
	time.Sleep(1100 * time.Millisecond) // go-github itself refuses to call before Retry-After
	if _, _, err := f.gh.Issues.CreateComment(f.ctx, "acme", "infra", n, &github.IssueComment{Body: github.String("plan")}); err != nil {
		t.Errorf("after the limit: %v", err)
	}
	if got := f.s.Comments(testRepo, n); len(got) != 1 {
		t.Errorf("comments = %d, want only the retried one", len(got))
	}
}

func TestReplicationLag(t *testing.T) {
	f := newFixture(t)
	f.s.ReplicationLag("/repos/{owner}/{repo}/pulls/{pull_number}", 200*time.Millisecond)
	n, _ := f.openFeaturePR(t) // emits pull_request opened
	_, resp, _ := f.gh.PullRequests.Get(f.ctx, "acme", "infra", n)
	if resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("right after the webhook: want 404")
	}
	time.Sleep(250 * time.Millisecond)
	if _, _, err := f.gh.PullRequests.Get(f.ctx, "acme", "infra", n); err != nil {
		t.Errorf("after the lag: %v", err)
	}
}

func TestDelayFault(t *testing.T) {
	f := newFixture(t)
	n, _ := f.openFeaturePR(t)
	f.s.Fault("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", Fault{Delay: 150 * time.Millisecond})
	start := time.Now()
	if _, _, err := f.gh.PullRequests.Get(f.ctx, "acme", "infra", n); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("delayed call took %s", d)
	}
}
