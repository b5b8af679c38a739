package e2e

import (
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/internal/githubtest"
)

// An installation whose primary rate limit runs out while the bot plans a
// PR (here: 10 requests per 2 seconds) slows the bot down, not stops it:
// GitHub's 403 with X-RateLimit-Remaining: 0 is waited out until the reset,
// the plan is posted as usual, and /metrics shows the refused calls and
// the budget left.
func TestPrimaryRateLimitSlowsPlanning(t *testing.T) {
	w := newWorld(t, options{})
	w.gh.SetRateLimit(githubtest.RateLimit{Limit: 10, Window: 2 * time.Second})
	n, sha := w.openPR("limited", map[string]string{
		"deploy/staging/app.yaml": configMap("app", "color", "green"),
		"deploy/prod/app.yaml":    configMap("app", "color", "green"),
	})
	checks := w.waitPlanned(sha, "staging", "prod")
	if c := checks["tugboat/staging"]; c.Conclusion != "action_required" || !digestRE.MatchString(c.ExternalID) {
		t.Errorf("staging = %s %q, want the plan waiting for /apply", c.Conclusion, c.ExternalID)
	}
	w.waitFor("the plan comment", 60*time.Second, func() bool { return len(w.planComments(n, sha)) == 1 })
	waitIdle(t, w)

	m := metrics(t, w.bot.url)
	refused := 0
	for _, match := range regexp.MustCompile(`tugboat_github_api_calls_total\{method="\w+",status="403"\} (\d+)`).FindAllStringSubmatch(m, -1) {
		k, _ := strconv.Atoi(match[1])
		refused += k
	}
	if refused == 0 {
		t.Fatalf("no call was refused: the limit never bit, so this proves nothing\n%s", m)
	}
	left := regexp.MustCompile(`(?m)^tugboat_github_rate_limit_remaining (\d+)$`).FindStringSubmatch(m)
	if left == nil {
		t.Fatalf("/metrics lacks tugboat_github_rate_limit_remaining:\n%s", m)
	}
	if v, _ := strconv.Atoi(left[1]); v < 0 || v > 10 {
		t.Fatalf("rate limit remaining = %d, want the installation's budget (0..10)", v)
	}
}
