package githubtest

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

// TestRateLimitHeaders: every response carries GitHub's X-RateLimit-*
// headers, counting down the installation's budget.
func TestRateLimitHeaders(t *testing.T) {
	f := newFixture(t)
	var last int
	for i := 1; i <= 3; i++ {
		_, resp, err := f.gh.Repositories.Get(f.ctx, "acme", "infra")
		if err != nil {
			t.Fatal(err)
		}
		r := resp.Rate
		if r.Limit != 5000 || r.Remaining != 5000-i {
			t.Fatalf("call %d: rate %+v, want limit 5000, remaining %d", i, r, 5000-i)
		}
		if d := time.Until(r.Reset.Time); d < 58*time.Minute || d > time.Hour {
			t.Fatalf("reset in %s, want about an hour", d)
		}
		if got := resp.Header.Get("X-RateLimit-Used"); got != strconv.Itoa(i) {
			t.Fatalf("X-RateLimit-Used = %q, want %d", got, i)
		}
		if got := resp.Header.Get("X-RateLimit-Resource"); got != "core" {
			t.Fatalf("X-RateLimit-Resource = %q, want core", got)
		}
		last = r.Remaining
	}
	// Another token of the same installation draws on the same budget.
	other := installationClient(t, f.s, f.instID)
	_, resp, err := other.Repositories.Get(f.ctx, "acme", "infra")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Rate.Remaining != last-1 {
		t.Fatalf("a second token's remaining = %d, want %d (one budget per installation)", resp.Rate.Remaining, last-1)
	}
	if got := f.s.RateLimitUsed(f.instID); got != 4 {
		t.Fatalf("RateLimitUsed = %d, want 4", got)
	}
}

// TestPrimaryRateLimit: over its budget an installation is refused as
// GitHub refuses it — 403 (or 429) with X-RateLimit-Remaining: 0 and the
// reset time — until the window ends; the app's own (JWT) calls, such as
// minting a token, are not counted against it.
func TestPrimaryRateLimit(t *testing.T) {
	for _, status := range []int{http.StatusForbidden, http.StatusTooManyRequests} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			f := newFixture(t)
			f.s.SetRateLimit(RateLimit{Limit: 2, Window: 2 * time.Second, Status: status})
			for i := 0; i < 2; i++ {
				if _, _, err := f.gh.Repositories.Get(f.ctx, "acme", "infra"); err != nil {
					t.Fatal(err)
				}
			}
			// A raw request, so go-github's own bookkeeping does not
			// answer in the emulator's place.
			tok := installationToken(t, f.s, f.instID)
			req, _ := http.NewRequest(http.MethodGet, f.s.URL()+"/repos/acme/infra", nil)
			req.Header.Set("Authorization", "token "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			reset, _ := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64)
			if resp.StatusCode != status || resp.Header.Get("X-RateLimit-Remaining") != "0" || reset == 0 || time.Until(time.Unix(reset, 0)) > 2*time.Second {
				t.Fatalf("over the limit: %d, remaining %q, reset %q; want %d, 0 and a reset within 2 s",
					resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining"), resp.Header.Get("X-RateLimit-Reset"), status)
			}
			if status == http.StatusForbidden {
				// go-github recognises it as a primary rate limit.
				fresh := installationClient(t, f.s, f.instID)
				_, _, err := fresh.Repositories.Get(f.ctx, "acme", "infra")
				var rle *github.RateLimitError
				if !errors.As(err, &rle) || rle.Rate.Remaining != 0 {
					t.Fatalf("go-github error = %v, want a RateLimitError", err)
				}
			}
			time.Sleep(time.Until(time.Unix(reset, 0)) + 1100*time.Millisecond)
			if _, _, err := installationClient(t, f.s, f.instID).Repositories.Get(f.ctx, "acme", "infra"); err != nil {
				t.Fatalf("after the reset: %v", err)
			}
		})
	}
}

// installationToken mints a token with the app's JWT, as ghinstallation
// does; on an exhausted installation this still works.
func installationToken(t *testing.T, s *Server, id int64) string {
	t.Helper()
	itr, err := newInstallationTransport(s.App(), id, s.URL())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := itr.Token(t.Context())
	if err != nil {
		t.Fatalf("mint a token of an exhausted installation: %v", err)
	}
	return tok
}
