package githubtest

import (
	"net/http"
	"path"
	"strconv"
	"time"
)

// Fault makes an endpoint misbehave, for testing a client's retries.
type Fault struct {
	// Status answers with this status (e.g. 500, 502) and GitHub's error body.
	Status int
	// SecondaryRateLimit answers 403 with Retry-After, GitHub's secondary
	// rate limit ("You have exceeded a secondary rate limit").
	SecondaryRateLimit bool
	// RetryAfter is the Retry-After of a secondary rate limit (default 1 s).
	RetryAfter time.Duration
	// Delay holds the request this long; with no Status or rate limit, the
	// request is then served normally.
	Delay time.Duration
	// Times is how many calls fail (default 1); then the endpoint recovers.
	Times int
}

type fault struct {
	method, pattern string
	Fault
	left int
}

type lag struct {
	method, pattern string
	window          time.Duration
	until           time.Time
}

// Fault makes the next calls to method + pattern fail. pattern is an OpenAPI
// path template as GitHub documents it ("/repos/{owner}/{repo}/pulls/{pull_number}")
// or a path glob ("/repos/acme/*/pulls/7"), or "/graphql" for the GraphQL
// endpoint. Faults queue: the first matching
// one with calls left applies.
func (s *Server) Fault(method, pattern string, f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{method: method, pattern: pattern, Fault: f, left: f.Times})
}

// ReplicationLag makes GETs of pattern answer 404 for window after every
// webhook the server emits: GitHub's replicas sometimes lag behind the event
// that announced an object.
func (s *Server) ReplicationLag(pattern string, window time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lags = append(s.lags, &lag{method: http.MethodGet, pattern: pattern, window: window})
}

// FaultsLeft reports how many injected failures have not fired yet.
func (s *Server) FaultsLeft() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, f := range s.faults {
		n += f.left
	}
	return n
}

func (s *Server) armLags() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.lags {
		l.until = time.Now().Add(l.window)
	}
}

func matches(pattern, template, reqPath string) bool {
	if pattern == template {
		return true
	}
	ok, _ := path.Match(pattern, reqPath)
	return ok
}

// injectFault applies the first matching fault, if any; it reports whether
// it answered the request itself.
func (s *Server) injectFault(w http.ResponseWriter, r *http.Request, template string) bool {
	s.mu.Lock()
	var hit *Fault
	for _, f := range s.faults {
		if f.left > 0 && f.method == r.Method && matches(f.pattern, template, r.URL.Path) {
			f.left--
			cp := f.Fault
			hit = &cp
			break
		}
	}
	lagging := false
	for _, l := range s.lags {
		if l.method == r.Method && matches(l.pattern, template, r.URL.Path) && time.Now().Before(l.until) {
			lagging = true
		}
	}
	s.mu.Unlock()

	if lagging {
		notFound(w)
		return true
	}
	if hit == nil {
		return false
	}
	if hit.Delay > 0 {
		select {
		case <-time.After(hit.Delay):
		case <-r.Context().Done():
			return true
		}
	}
	switch {
	case hit.SecondaryRateLimit:
		retry := hit.RetryAfter
		if retry <= 0 {
			retry = time.Second
		}
		w.Header().Set("Retry-After", strconv.Itoa(int((retry+time.Second-1)/time.Second)))
		writeJSON(w, http.StatusForbidden, map[string]any{
			"message":           "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.",
			"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
		})
		return true
	case hit.Status != 0:
		msg := http.StatusText(hit.Status)
		if hit.Status >= 500 {
			msg = "Server Error"
		}
		writeError(w, hit.Status, msg)
		return true
	}
	return false
}
