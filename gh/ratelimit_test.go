package gh

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tugboatops/tugboat/internal/githubtest"
)

// rateLimited is an emulator whose installation has the given primary rate
// limit, and a client wired as `bot serve` wires it, with its metrics.
func rateLimited(t *testing.T, rl githubtest.RateLimit, policy RetryPolicy) (*githubtest.Server, *Factory, int64, *Metrics) {
	t.Helper()
	s := githubtest.New(t, githubtest.WithLogf(func(string, ...any) {}))
	s.CreateRepo("acme/infra", githubtest.RepoOptions{Files: map[string]string{"deploy/app.yaml": "kind: ConfigMap\n"}})
	id := s.CreateInstallation("acme")
	s.SetRateLimit(rl)
	app := s.App()
	m := NewMetrics(prometheus.NewRegistry())
	cc := githubapp.NewClientCreator(s.URL()+"/api/v3/", s.URL()+"/api/graphql", app.ID, app.PrivateKeyPEM,
		githubapp.WithClientMiddleware(Middleware(policy, m)))
	// Cached per installation, as `bot serve` has it: one go-github client
	// (and its idea of the rate limit) serves every event.
	cc, err := githubapp.NewCachingClientCreator(cc, githubapp.DefaultCachingClientCapacity)
	if err != nil {
		t.Fatal(err)
	}
	return s, &Factory{Creator: cc, Download: &http.Client{Transport: &Transport{Metrics: m}}}, id, m
}

// TestPrimaryRateLimitWaitsForTheReset: the emulator's X-RateLimit-*
// headers feed the rate-limit metric on every call; once the installation's
// budget is spent, the next call is answered 403 (or 429) with
// X-RateLimit-Remaining: 0, and the transport waits for X-RateLimit-Reset
// and tries again, so the caller sees a success.
func TestPrimaryRateLimitWaitsForTheReset(t *testing.T) {
	for _, status := range []int{http.StatusForbidden, http.StatusTooManyRequests} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			s, f, id, m := rateLimited(t, githubtest.RateLimit{Limit: 3, Window: 2 * time.Second, Status: status},
				RetryPolicy{Backoff: 10 * time.Millisecond, MaxWait: 10 * time.Second})
			ctx := context.Background()
			repo := Repo{Owner: "acme", Name: "infra"}
			for i := 1; i <= 3; i++ {
				// A client per call, as the bot asks for one per event.
				c, err := f.Installation(id)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := c.Repository(ctx, repo); err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				if got := testutil.ToFloat64(m.remaining); got != float64(3-i) {
					t.Fatalf("after call %d the rate-limit metric is %v, want %d", i, got, 3-i)
				}
			}
			c, err := f.Installation(id)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if _, err := c.Repository(ctx, repo); err != nil {
				t.Fatalf("the call over the limit failed instead of waiting for the reset: %v", err)
			}
			if took := time.Since(start); took < 500*time.Millisecond || took > 8*time.Second {
				t.Fatalf("the call over the limit took %s: it should wait for the reset (≤ 2 s away), no longer", took)
			}
			if got := testutil.ToFloat64(m.calls.WithLabelValues("GET", strconv.Itoa(status))); got != 1 {
				t.Fatalf("calls{GET,%d} = %v, want the one refused call", status, got)
			}
			if got := s.RateLimitUsed(id); got != 1 {
				t.Fatalf("the new window has counted %d calls, want the one retried", got)
			}
			if got := testutil.ToFloat64(m.remaining); got != 2 {
				t.Fatalf("rate-limit metric = %v after the reset, want 2", got)
			}
		})
	}
}

// TestPrimaryRateLimitBeyondMaxWaitFails: a reset further away than the
// policy's MaxWait fails the call at once, with GitHub's message, rather
// than holding a worker for up to an hour.
func TestPrimaryRateLimitBeyondMaxWaitFails(t *testing.T) {
	s, f, id, m := rateLimited(t, githubtest.RateLimit{Limit: 1, Window: time.Hour},
		RetryPolicy{Backoff: 10 * time.Millisecond, MaxWait: 5 * time.Second})
	ctx := context.Background()
	repo := Repo{Owner: "acme", Name: "infra"}
	c, err := f.Installation(id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Repository(ctx, repo); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(m.remaining); got != 0 {
		t.Fatalf("rate-limit metric = %v, want 0", got)
	}
	c, err = f.Installation(id)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.Repository(ctx, repo)
	// go-github itself refuses the call, knowing the budget is spent until
	// the reset: either way the message says so.
	if err == nil || !strings.Contains(err.Error(), "rate limit") || !strings.Contains(err.Error(), "exceeded") {
		t.Fatalf("err = %v, want a rate-limit error", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("failing took %s: a reset an hour away is not waited for", took)
	}
	if got := s.RateLimitUsed(id); got != 1 {
		t.Fatalf("the budget counted %d calls, want 1 (the refused call is not retried)", got)
	}
}
