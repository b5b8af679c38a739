package gh

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// RetryPolicy bounds the retries of Transport.
type RetryPolicy struct {
	// Attempts is the most tries of one request (default 5).
	Attempts int
	// MaxWait caps one Retry-After (or rate-limit reset) the transport is
	// willing to honour; a longer one fails the request at once instead of
	// holding a worker (default 60 s).
	MaxWait time.Duration
	// Backoff is the first wait after a 5xx, doubled each retry (default 250 ms).
	Backoff time.Duration
	// NotFoundWindow is how long after a webhook a 404 on a GET is taken for
	// GitHub's replicas lagging behind the event (default 5 s).
	NotFoundWindow time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Attempts <= 0 {
		p.Attempts = 5
	}
	if p.MaxWait <= 0 {
		p.MaxWait = 60 * time.Second
	}
	if p.Backoff <= 0 {
		p.Backoff = 250 * time.Millisecond
	}
	if p.NotFoundWindow <= 0 {
		p.NotFoundWindow = 5 * time.Second
	}
	return p
}

type eventTimeKey struct{}

// AfterWebhook marks ctx as handling a webhook received at t: GETs that
// answer 404 within RetryPolicy.NotFoundWindow of t are retried, since right
// after an event GitHub's API may not show the object yet.
func AfterWebhook(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, eventTimeKey{}, t)
}

// Transport retries GitHub's transient failures: 5xx answers, secondary
// rate limits (403/429 with Retry-After, honoured up to MaxWait), an
// exhausted primary rate limit that resets within MaxWait, and 404s on GETs
// shortly after a webhook. It records every call in Metrics and logs the
// rate limit left. Requests with a body are replayed through GetBody
// (go-github sets it). It logs to zerolog.Ctx of the request's context, so
// a retry's line names the repository, PR and delivery it was made for.
type Transport struct {
	Next    http.RoundTripper
	Policy  RetryPolicy
	Metrics *Metrics
	// sleep is time.Sleep with a context (tests shorten it).
	sleep func(ctx context.Context, d time.Duration) error
}

// Middleware returns Transport as a go-githubapp ClientMiddleware.
func Middleware(p RetryPolicy, m *Metrics) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper {
		return &Transport{Next: next, Policy: p, Metrics: m}
	}
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	p := t.Policy.withDefaults()
	sleep := t.sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	ctx := req.Context()
	backoff := p.Backoff
	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 {
			var err error
			if r, err = rewind(req); err != nil {
				return nil, err
			}
		}
		resp, err := t.next().RoundTrip(r)
		if err != nil {
			t.Metrics.call(req.Method, "error")
			return nil, err
		}
		t.Metrics.call(req.Method, strconv.Itoa(resp.StatusCode))
		t.observeRateLimit(ctx, resp)
		wait, why := t.retryAfter(ctx, req, resp, p, backoff)
		if wait < 0 || attempt >= p.Attempts {
			keepClientTrying(resp, p)
			return resp, nil
		}
		zerolog.Ctx(ctx).Warn().Str("method", req.Method).Str("path", req.URL.Path).Int("status", resp.StatusCode).
			Int("attempt", attempt).Dur("wait", wait).Msg("GitHub: " + why + ", retrying")
		drain(resp)
		if err := sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("%s %s: %s: %w", req.Method, req.URL.Path, why, err)
		}
		if why == "server error" {
			backoff *= 2
		}
	}
}

func (t *Transport) next() http.RoundTripper {
	if t.Next == nil {
		return http.DefaultTransport
	}
	return t.Next
}

// retryAfter decides whether resp is worth another try and after how long;
// a negative wait means no.
func (t *Transport) retryAfter(ctx context.Context, req *http.Request, resp *http.Response, p RetryPolicy, backoff time.Duration) (time.Duration, string) {
	switch code := resp.StatusCode; {
	case code >= 500:
		return backoff, "server error"
	case code == http.StatusForbidden || code == http.StatusTooManyRequests:
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			secs, err := strconv.Atoi(strings.TrimSpace(ra))
			if err != nil || secs < 0 {
				return -1, ""
			}
			d := time.Duration(secs) * time.Second
			if d > p.MaxWait {
				return -1, ""
			}
			return d, "secondary rate limit"
		}
		if resp.Header.Get("X-RateLimit-Remaining") == "0" {
			reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64)
			if err != nil {
				return -1, ""
			}
			d := time.Until(time.Unix(reset, 0)) + time.Second
			if d > p.MaxWait {
				return -1, ""
			}
			return max(d, 0), "rate limit exhausted"
		}
		if isSecondaryRateLimit(resp) {
			return backoff * 4, "secondary rate limit"
		}
	case code == http.StatusNotFound && req.Method == http.MethodGet:
		if at, ok := ctx.Value(eventTimeKey{}).(time.Time); ok && time.Since(at) < p.NotFoundWindow {
			return backoff, "not found right after a webhook"
		}
	}
	return -1, ""
}

// isSecondaryRateLimit looks at the body of a 403 without Retry-After; it
// puts the body back for go-github to parse.
func isSecondaryRateLimit(resp *http.Response) bool {
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return err == nil && bytes.Contains(bytes.ToLower(body), []byte("secondary rate limit"))
}

func (t *Transport) observeRateLimit(ctx context.Context, resp *http.Response) {
	v := resp.Header.Get("X-RateLimit-Remaining")
	if v == "" {
		return
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return
	}
	t.Metrics.rateLimit(n)
	log := zerolog.Ctx(ctx)
	ev := log.Debug()
	if n < 100 {
		ev = log.Warn()
	}
	ev.Int("rate_limit_remaining", n).Msg("GitHub rate limit")
}

// rewind makes a fresh copy of req for another attempt.
func rewind(req *http.Request) (*http.Request, error) {
	r := req.Clone(req.Context())
	if req.Body == nil || req.Body == http.NoBody {
		return r, nil
	}
	if req.GetBody == nil {
		return nil, fmt.Errorf("%s %s: cannot retry a request whose body cannot be replayed", req.Method, req.URL.Path)
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, fmt.Errorf("%s %s: replay body: %w", req.Method, req.URL.Path, err)
	}
	r.Body = body
	return r, nil
}

func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// keepClientTrying hides X-RateLimit-Reset from go-github when the budget
// is spent but resets within MaxWait. go-github remembers the last
// response's rate and refuses every later call locally until the reset
// ("not making remote request"), and `bot serve` shares one client per
// installation across events: the wait-and-retry above would never run,
// and every event in those seconds would fail. Without the reset go-github
// lets the next call through; GitHub refuses it with the reset, and this
// transport waits for it. A reset further off than MaxWait is left alone,
// so go-github fails calls fast until then.
func keepClientTrying(resp *http.Response, p RetryPolicy) {
	if resp.Header.Get("X-RateLimit-Remaining") != "0" {
		return
	}
	reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64)
	if err != nil || time.Until(time.Unix(reset, 0)) > p.MaxWait {
		return
	}
	resp.Header.Del("X-RateLimit-Reset")
}
