package e2e

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/internal/githubtest"
)

// seriesCount counts the metric series (sample lines) the bot exposes.
func seriesCount(m string) int {
	n := 0
	for _, line := range strings.Split(m, "\n") {
		if line != "" && !strings.HasPrefix(line, "#") && !background(line) {
			n++
		}
	}
	return n
}

// background says whether a series comes from the bot's own background
// work (the leader's resync and drift rounds call GitHub at start), which
// runs beside the test's requests and may add a status code's series.
func background(series string) bool {
	return strings.HasPrefix(series, "tugboat_github_")
}

// randomEvent is an X-GitHub-Event value GitHub never sends (and no fixture
// uses): hex after a prefix no event name has.
func randomEvent() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "zz-" + hex.EncodeToString(b)
}

// Unsigned requests with made-up event names never create metric series:
// 10,000 of them leave the series count as it was (the event label takes
// only GitHub's event names; the rest are "other").
func TestUnsignedEventsMintNoSeries(t *testing.T) {
	gh := githubtest.New(t, githubtest.WithLogf(func(string, ...any) {}))
	b := startBot(t, gh, "")
	post := func(c *http.Client, event string) {
		req, _ := http.NewRequest(http.MethodPost, b.url+"/api/github/hook", strings.NewReader(`{"zen":"x"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", event)
		req.Header.Set("X-GitHub-Delivery", event)
		req.Header.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))
		resp, err := c.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("unsigned %s answered %d, want 400", event, resp.StatusCode)
		}
	}
	post(http.DefaultClient, randomEvent()) // the "other" series itself
	// The background probe's first round adds the clusters' series.
	var before string
	waitUntil(t, "the first cluster probe", func() bool {
		before = metrics(t, b.url)
		return strings.Count(before, "tugboat_cluster_probe_seconds{") == 2
	})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			for range 10000 / 8 {
				post(c, randomEvent())
			}
		}()
	}
	wg.Wait()
	after := metrics(t, b.url)
	// Process metrics come and go (open fds, GC cycles) but not series.
	if n, m := seriesCount(before), seriesCount(after); n != m {
		t.Errorf("series count went from %d to %d after 10,000 unsigned requests; new: %v", n, m, newSeries(before, after))
	}
	if want := `tugboat_webhook_deliveries_total{event="other",outcome="invalid"} 10001`; !strings.Contains(after, want) {
		t.Errorf("metrics lack %s:\n%s", want, grepLines(after, "tugboat_webhook_deliveries_total"))
	}
	if strings.Contains(after, "zz-") {
		t.Errorf("a made-up event name reached the metrics")
	}
}

// newSeries lists the series in after that before lacks.
func newSeries(before, after string) []string {
	had := map[string]bool{}
	for _, line := range strings.Split(before, "\n") {
		name, _, _ := strings.Cut(line, " ")
		had[name] = true
	}
	var out []string
	for _, line := range strings.Split(after, "\n") {
		if name, _, _ := strings.Cut(line, " "); !had[name] && !strings.HasPrefix(line, "#") && !background(line) {
			out = append(out, name)
		}
	}
	return out
}

// waitUntil polls cond for up to 30 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// slowBody starts a webhook request that declares a body and sends a few
// bytes of it, then nothing: a slow-loris. The returned channel closes when
// the bot has closed the connection.
func slowBody(t *testing.T, url string) <-chan struct{} {
	t.Helper()
	host := strings.TrimPrefix(url, "http://")
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /api/github/hook HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nX-GitHub-Event: pull_request\r\nX-GitHub-Delivery: slow\r\nContent-Length: 100000\r\n\r\n{\"action\":", host)
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		io.Copy(io.Discard, bufio.NewReader(conn)) // until the bot closes it
	}()
	return closed
}

// An oversized body and slow bodies are refused, unverified bodies read at
// once are bounded, and all along the bot stays ready and keeps serving
// signed deliveries.
func TestOversizedAndSlowRequestsRefused(t *testing.T) {
	const readTimeout = 3 * time.Second
	w := newWorld(t, options{extraConfig: fmt.Sprintf("limits: {read_timeout: %s, max_unverified: 4, max_connections: 64}\n", readTimeout)})
	hook := w.bot.url + "/api/github/hook"

	// Over 25 MB, declared: refused before the body is read.
	big := bytes.Repeat([]byte(" "), 25<<20+1)
	resp, err := http.Post(hook, "application/json", bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("declared oversized body answered %d, want 413", resp.StatusCode)
	}
	// Over 25 MB, chunked (no length given): cut at 25 MB.
	resp, err = http.Post(hook, "application/json", io.MultiReader(bytes.NewReader(big)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked oversized body answered %d, want 413", resp.StatusCode)
	}

	// Four slow bodies fill the unverified slots: a fifth request is
	// turned away at once instead of queueing behind them.
	start := time.Now()
	var cut []<-chan struct{}
	for range 4 {
		cut = append(cut, slowBody(t, w.bot.url))
	}
	// Nothing else competes for the slots meanwhile: a probe racing the
	// slow bodies into the gate could take one of their slots.
	time.Sleep(time.Second)
	resp, err = http.Post(hook, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a request beyond the bound answered %d, want 503", resp.StatusCode)
	}
	if r, err := http.Get(w.bot.url + "/readyz"); err != nil || r.StatusCode != http.StatusOK {
		t.Errorf("/readyz while slow bodies are held: %v %v", r, err)
	}
	// The read timeout cuts every slow body.
	for _, c := range cut {
		select {
		case <-c:
		case <-time.After(readTimeout + 10*time.Second):
			t.Fatalf("a slow body still holds its connection %s after it started", time.Since(start))
		}
	}
	if took := time.Since(start); took < readTimeout {
		t.Errorf("slow bodies cut after %s, before the read timeout", took)
	}

	// A slow body held beside a real delivery does not keep it out.
	slowBody(t, w.bot.url)
	n, sha := w.openPR("after-abuse", map[string]string{"deploy/staging/app.yaml": configMap("app", "color", "green")})
	w.waitPlanned(sha, "staging")
	if len(w.planComments(n, sha)) != 1 {
		t.Errorf("the signed delivery after the abuse was not planned")
	}
	for _, d := range w.gh.Deliveries() {
		if d.Event == "pull_request" && d.StatusCode != http.StatusOK {
			t.Errorf("signed %s delivery answered %d", d.Event, d.StatusCode)
		}
	}
	if r, err := http.Get(w.bot.url + "/readyz"); err != nil || r.StatusCode != http.StatusOK {
		t.Errorf("/readyz after the abuse: %v %v", r, err)
	}
}

// While the webhook secret is rotated, deliveries signed with the old or the
// new secret are both handled; one signed with neither is refused.
func TestWebhookSecretRotation(t *testing.T) {
	const old = "the-old-webhook-secret"
	w := newWorld(t, options{extraConfig: "previous_webhook_secrets: [" + old + "]\n"})
	hook := w.bot.url + "/api/github/hook"

	w.gh.SetWebhook(hook, old) // GitHub still signs with the old secret
	n1, sha1 := w.openPR("old-secret", map[string]string{"deploy/staging/app.yaml": configMap("app", "color", "green")})
	w.waitPlanned(sha1, "staging")

	w.gh.SetWebhook(hook, "") // the App now has the new (current) secret
	n2, sha2 := w.openPR("new-secret", map[string]string{"deploy/prod/app.yaml": configMap("app", "color", "red")})
	w.waitPlanned(sha2, "prod")
	if len(w.planComments(n1, sha1)) != 1 || len(w.planComments(n2, sha2)) != 1 {
		t.Errorf("plans: old secret %d, new secret %d, want one each", len(w.planComments(n1, sha1)), len(w.planComments(n2, sha2)))
	}

	w.gh.SetWebhook(hook, "neither-old-nor-new")
	n3, sha3 := w.openPR("no-secret", map[string]string{"deploy/prod/app.yaml": configMap("app", "color", "blue2")})
	w.gh.WaitForDeliveries()
	waitIdle(t, w)
	if len(w.botComments(n3)) != 0 || len(w.gh.CheckRuns(w.repo, sha3)) != 0 {
		t.Errorf("a delivery signed with neither secret was handled")
	}
	refused := 0
	for _, d := range w.gh.Deliveries() {
		if d.Event == "pull_request" && d.StatusCode == http.StatusBadRequest {
			refused++
		}
	}
	if refused != 1 {
		t.Errorf("%d pull_request deliveries refused, want 1 (the one signed with neither secret)", refused)
	}
	if strings.Contains(w.bot.logs.String(), old) {
		t.Errorf("the bot logged the old webhook secret")
	}
}
