package githubtest

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// RateLimit is the primary rate limit of installation tokens. GitHub counts
// it per installation (every token of one installation draws on the same
// budget), over a window that starts with the first request and resets an
// hour later.
type RateLimit struct {
	// Limit is the requests allowed per window (default 5,000, GitHub's
	// floor for an installation).
	Limit int
	// Window is how long a budget lasts (default one hour).
	Window time.Duration
	// Status answers a request over the limit: 403 (the default; what
	// GitHub mostly sends) or 429 (which GitHub documents as well).
	Status int
}

func (rl RateLimit) withDefaults() RateLimit {
	if rl.Limit <= 0 {
		rl.Limit = 5000
	}
	if rl.Window <= 0 {
		rl.Window = time.Hour
	}
	if rl.Status == 0 {
		rl.Status = http.StatusForbidden
	}
	return rl
}

// rateLimiter keeps one budget per principal. Its zero value uses
// RateLimit's defaults.
type rateLimiter struct {
	mu      sync.Mutex
	conf    RateLimit
	budgets map[string]*budget
}

type budget struct {
	used  int
	reset time.Time
}

// SetRateLimit changes the installations' primary rate limit and starts
// every budget afresh. App (JWT) and user-token requests keep GitHub's
// 5,000 an hour, so an installation's exhausted budget does not stop the
// bot from minting tokens, as on GitHub.
func (s *Server) SetRateLimit(rl RateLimit) {
	s.limits.mu.Lock()
	defer s.limits.mu.Unlock()
	s.limits.conf = rl
	s.limits.budgets = nil
}

// RateLimitUsed reports how many requests the installation's current
// budget has counted.
func (s *Server) RateLimitUsed(installation int64) int {
	s.limits.mu.Lock()
	defer s.limits.mu.Unlock()
	if b := s.limits.budgets[fmt.Sprintf("installation:%d", installation)]; b != nil && time.Now().Before(b.reset) {
		return b.used
	}
	return 0
}

// take counts one request of p at now. It returns the limit, what is left
// after this request, the reset time, and whether the request may proceed.
func (l *rateLimiter) take(p *principal, now time.Time) (limit, remaining int, reset time.Time, who string, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	conf := RateLimit{}.withDefaults()
	var key string
	switch {
	case p == nil:
		key, who = "anonymous", "anonymous"
	case p.installation != nil:
		conf = l.conf.withDefaults()
		key, who = fmt.Sprintf("installation:%d", p.installation.ID), fmt.Sprintf("installation ID %d", p.installation.ID)
	case p.app:
		key, who = "app", "app"
	default:
		key, who = "user:"+p.user.Login, fmt.Sprintf("user ID %d", p.user.ID)
	}
	if l.budgets == nil {
		l.budgets = map[string]*budget{}
	}
	b := l.budgets[key]
	if b == nil || !now.Before(b.reset) {
		b = &budget{reset: now.Add(conf.Window)}
		l.budgets[key] = b
	}
	if b.used >= conf.Limit {
		return conf.Limit, 0, b.reset, who, false
	}
	b.used++
	return conf.Limit, conf.Limit - b.used, b.reset, who, true
}

// rateLimit sends GitHub's X-RateLimit-* headers on every authenticated
// response and refuses requests over the primary limit the way GitHub
// does: 403 (or 429) with X-RateLimit-Remaining: 0 and X-RateLimit-Reset
// (epoch seconds) saying when to try again.
func (s *Server) rateLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit, remaining, reset, who, ok := s.limits.take(principalOf(r), time.Now())
		status := s.rateLimitStatus()
		h := w.Header()
		h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
		h.Set("X-RateLimit-Used", strconv.Itoa(limit-remaining))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		h.Set("X-RateLimit-Resource", "core")
		if !ok {
			writeJSON(w, status, map[string]any{
				"message":           fmt.Sprintf("API rate limit exceeded for %s. If you reach out to GitHub Support for help, please include the request ID.", who),
				"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits",
			})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) rateLimitStatus() int {
	s.limits.mu.Lock()
	defer s.limits.mu.Unlock()
	return s.limits.conf.withDefaults().Status
}
