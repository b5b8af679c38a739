package gh

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
)

// scripted answers each request with the next of its responses.
func scripted(t *testing.T, answers ...func(w http.ResponseWriter)) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			if string(b) != `{"body":"hello"}` {
				t.Errorf("attempt %d sent body %q: the body was not replayed", i+1, b)
			}
		}
		if i >= len(answers) {
			w.WriteHeader(200)
			return
		}
		answers[i](w)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func testTransport(reg prometheus.Registerer) (*Transport, *[]time.Duration) {
	var waits []time.Duration
	tr := &Transport{Metrics: NewMetrics(reg), Policy: RetryPolicy{MaxWait: 10 * time.Second}}
	tr.sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	return tr, &waits
}

func do(t *testing.T, tr *Transport, ctx context.Context, method, url string) *http.Response {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, method, url, nil)
	if method == http.MethodPost {
		req, _ = http.NewRequestWithContext(ctx, method, url, strings.NewReader(`{"body":"hello"}`))
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestTransportRetries(t *testing.T) {
	status := func(code int, h ...string) func(w http.ResponseWriter) {
		return func(w http.ResponseWriter) {
			for i := 0; i+1 < len(h); i += 2 {
				w.Header().Set(h[i], h[i+1])
			}
			w.WriteHeader(code)
			if code == 403 && len(h) == 0 {
				io.WriteString(w, `{"message":"You have exceeded a secondary rate limit."}`)
			}
		}
	}
	cases := map[string]struct {
		answers   []func(http.ResponseWriter)
		method    string
		webhook   bool
		wantCode  int
		wantTries int32
		wantWaits string
	}{
		"5xx with backoff":         {[]func(http.ResponseWriter){status(502), status(500)}, "POST", false, 200, 3, "[250ms 500ms]"},
		"Retry-After honoured":     {[]func(http.ResponseWriter){status(403, "Retry-After", "3")}, "POST", false, 200, 2, "[3s]"},
		"Retry-After beyond bound": {[]func(http.ResponseWriter){status(429, "Retry-After", "3600")}, "GET", false, 429, 1, "[]"},
		"secondary limit by body":  {[]func(http.ResponseWriter){status(403)}, "GET", false, 200, 2, "[1s]"},
		"plain 403 not retried":    {[]func(http.ResponseWriter){status(403, "X-Other", "1")}, "GET", false, 403, 1, "[]"},
		"404 after a webhook":      {[]func(http.ResponseWriter){status(404), status(404)}, "GET", true, 200, 3, "[250ms 250ms]"},
		"404 otherwise final":      {[]func(http.ResponseWriter){status(404)}, "GET", false, 404, 1, "[]"},
		"404 on a write final":     {[]func(http.ResponseWriter){status(404)}, "POST", true, 404, 1, "[]"},
		"gives up after attempts":  {[]func(http.ResponseWriter){status(500), status(500), status(500), status(500), status(500), status(500)}, "GET", false, 500, 5, "[250ms 500ms 1s 2s]"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			srv, tries := scripted(t, c.answers...)
			tr, waits := testTransport(prometheus.NewRegistry())
			ctx := context.Background()
			if c.webhook {
				ctx = AfterWebhook(ctx, time.Now())
			}
			resp := do(t, tr, ctx, c.method, srv.URL)
			if resp.StatusCode != c.wantCode || tries.Load() != c.wantTries {
				t.Errorf("status %d after %d tries, want %d after %d", resp.StatusCode, tries.Load(), c.wantCode, c.wantTries)
			}
			if got := fmtDurations(*waits); got != c.wantWaits {
				t.Errorf("waits = %s, want %s", got, c.wantWaits)
			}
		})
	}
}

func TestTransportRecordsCallsAndRateLimit(t *testing.T) {
	srv, _ := scripted(t, func(w http.ResponseWriter) {
		w.Header().Set("X-RateLimit-Remaining", "4321")
		w.WriteHeader(201)
	})
	reg := prometheus.NewRegistry()
	tr, _ := testTransport(reg)
	do(t, tr, context.Background(), "POST", srv.URL)
	if got := testutil.ToFloat64(tr.Metrics.remaining); got != 4321 {
		t.Errorf("rate limit remaining = %v, want 4321", got)
	}
	if got := testutil.ToFloat64(tr.Metrics.calls.WithLabelValues("POST", "201")); got != 1 {
		t.Errorf("calls{POST,201} = %v, want 1", got)
	}
}

// A retry is logged with the logger of the request's context, so the line
// names the repository, PR and delivery the request was made for.
func TestTransportLogsRetriesWithTheRequestsLogger(t *testing.T) {
	srv, _ := scripted(t, func(w http.ResponseWriter) { w.WriteHeader(502) })
	tr, _ := testTransport(prometheus.NewRegistry())
	var logs strings.Builder
	log := zerolog.New(&logs).With().Str("github_delivery_id", "d-42").Str("repo", "acme/infra").Int("pr", 7).Logger()
	do(t, tr, log.WithContext(context.Background()), "GET", srv.URL)
	line, _, _ := strings.Cut(logs.String(), "\n")
	for _, want := range []string{`"github_delivery_id":"d-42"`, `"repo":"acme/infra"`, `"pr":7`, `"status":502`, `server error, retrying`} {
		if !strings.Contains(line, want) {
			t.Errorf("retry log line %q lacks %s", line, want)
		}
	}
}

func fmtDurations(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.String()
	}
	return "[" + strings.Join(parts, " ") + "]"
}
