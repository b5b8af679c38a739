package e2e

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/internal/githubtest"
)

// postWebhook sends a delivery signed with secret.
func postWebhook(t testing.TB, url, secret, event, id string, payload []byte) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/api/github/hook", bytes.NewReader(payload))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", id)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(payload)
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// A delivery with a bad signature is refused with a 4xx and nothing runs.
func TestBadSignatureRejected(t *testing.T) {
	w := newWorld(t, options{})
	w.gh.SetWebhook(w.bot.url+"/api/github/hook", "not-the-secret")
	n, sha := w.openPR("unsigned", map[string]string{"deploy/staging/app.yaml": configMap("app", "color", "green")})
	w.gh.WaitForDeliveries()
	for _, d := range w.gh.Deliveries() {
		if d.Event == "pull_request" && (d.StatusCode < 400 || d.StatusCode >= 500) {
			t.Errorf("badly signed %s delivery answered %d, want 4xx", d.Event, d.StatusCode)
		}
	}
	waitIdle(t, w)
	if len(w.botComments(n)) != 0 || len(w.gh.CheckRuns(w.repo, sha)) != 0 {
		t.Errorf("a badly signed delivery was processed")
	}
	if m := metrics(t, w.bot.url); !strings.Contains(m, `tugboat_webhook_deliveries_total{event="pull_request",outcome="invalid"}`) {
		t.Errorf("invalid delivery not counted:\n%s", m)
	}
}

// A redelivery of a handled delivery does nothing; a redelivery of one
// whose handling failed is handled.
func TestDuplicateAndRedelivery(t *testing.T) {
	w := newWorld(t, options{})
	// Creating comments fails beyond the bot's retries: the first handling fails.
	w.gh.Fault("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", githubtest.Fault{Status: 500, Times: 5})
	n, sha := w.openPR("redeliver", map[string]string{"deploy/staging/app.yaml": configMap("app", "color", "green")})
	w.waitFor("the failed handling concluded on the check run", 60*time.Second, func() bool {
		c := w.checks(sha)["tugboat/staging"]
		return c.Status == "completed"
	})
	if c := w.checks(sha)["tugboat/staging"]; c.Conclusion != "failure" || !strings.Contains(c.Summary, "could not be posted") {
		t.Errorf("failed handling not reported on the check run: %s %q", c.Conclusion, c.Summary)
	}
	// The failed handling is still retrying its comment when the run has
	// concluded: a redelivery before it ends is (rightly) a duplicate.
	waitIdle(t, w)
	var opened githubtest.Delivery
	for _, d := range w.gh.Deliveries() {
		if d.Event == "pull_request" && d.Action == "opened" {
			opened = d
		}
	}
	if err := w.gh.Redeliver(opened.ID); err != nil {
		t.Fatal(err)
	}
	w.waitFor("the plan after the redelivery", 60*time.Second, func() bool { return len(w.planComments(n, sha)) == 1 })
	waitIdle(t, w)
	runs := w.countChecks(sha, "tugboat/staging")
	comments := len(w.botComments(n))

	if err := w.gh.Redeliver(opened.ID); err != nil { // handled now: a duplicate
		t.Fatal(err)
	}
	w.gh.WaitForDeliveries()
	waitIdle(t, w)
	if got := w.countChecks(sha, "tugboat/staging"); got != runs {
		t.Errorf("a duplicate delivery ran again: %d check runs, was %d", got, runs)
	}
	if got := len(w.botComments(n)); got != comments {
		t.Errorf("a duplicate delivery commented again: %d, was %d", got, comments)
	}
	m := metrics(t, w.bot.url)
	for _, want := range []string{`outcome="duplicate"`, `outcome="failed"`, `outcome="handled"`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// GitHub's transient failures are retried and the plan still posted:
// 500s, a secondary rate limit with Retry-After, and 404s right after the
// webhook.
func TestRetriesGitHubFaults(t *testing.T) {
	w := newWorld(t, options{})
	w.gh.Fault("GET", "/repos/{owner}/{repo}/tarball/{ref}", githubtest.Fault{Status: 502, Times: 2})
	w.gh.Fault("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", githubtest.Fault{SecondaryRateLimit: true, RetryAfter: time.Second})
	w.gh.Fault("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}", githubtest.Fault{Status: 500})
	w.gh.ReplicationLag("/repos/{owner}/{repo}/pulls/{pull_number}", 600*time.Millisecond)
	n, sha := w.openPR("faults", map[string]string{"deploy/staging/app.yaml": configMap("app", "color", "green")})
	checks := w.waitPlanned(sha, "staging")
	if c := checks["tugboat/staging"]; c.Conclusion != "action_required" {
		t.Errorf("staging = %s %q, want action_required despite the faults", c.Conclusion, c.Summary)
	}
	if len(w.planComments(n, sha)) != 1 {
		t.Errorf("plan comment not posted")
	}
	if left := w.gh.FaultsLeft(); left != 0 {
		t.Errorf("%d injected faults never fired", left)
	}
	// Each retry is logged with the request's repository, PR and delivery.
	logs := strings.Split(w.bot.logs.String(), "\n")
	for _, retry := range []string{"secondary rate limit, retrying", "server error, retrying", "not found right after a webhook, retrying"} {
		found := false
		for _, line := range logs {
			if !strings.Contains(line, retry) {
				continue
			}
			found = true
			for _, want := range []string{`"repo":"` + w.repo + `"`, fmt.Sprintf(`"pr":%d`, n), `"github_delivery_id":"`} {
				if !strings.Contains(line, want) {
					t.Errorf("retry logged without %s: %s", want, line)
				}
			}
		}
		if !found {
			t.Errorf("the bot did not log %q", retry)
		}
	}
}

// Health, readiness and metrics endpoints answer.
func TestHealthReadyMetrics(t *testing.T) {
	w := newWorld(t, options{})
	_, sha := w.openPR("metrics", map[string]string{"deploy/prod/app.yaml": configMap("app", "color", "green")})
	w.waitPlanned(sha, "prod")
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(w.bot.url + path)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("%s: %v %v", path, resp, err)
		}
		if resp != nil {
			resp.Body.Close()
		}
	}
	waitIdle(t, w)
	idle := answered(w)
	m := metrics(t, w.bot.url)
	for _, want := range []string{
		`tugboat_webhook_deliveries_total{event="pull_request",outcome="handled"}`,
		`tugboat_webhook_deliveries_total{event="push",outcome="handled"}`,
		`tugboat_webhook_queue_depth 0`,
		`tugboat_plan_duration_seconds_count{env="prod"} 1`,
		`tugboat_github_api_calls_total{method="POST",status="201"}`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// Every delivery the bot answered was timed (the emulator may have
	// delivered more since the metrics were read: the bot's own writes
	// make events too).
	var timed int
	for _, l := range strings.Split(m, "\n") {
		if rest, ok := strings.CutPrefix(l, "tugboat_webhook_ack_seconds_count "); ok {
			timed, _ = strconv.Atoi(rest)
		}
	}
	after := answered(w)
	if timed == 0 || timed < idle || timed > after {
		t.Errorf("tugboat_webhook_ack_seconds_count %d, want between the %d deliveries answered before the metrics were read and the %d after:\n%s",
			timed, idle, after, grepLines(m, "tugboat_webhook_ack_seconds"))
	}
}

// answered counts the deliveries the bot answered.
func answered(w *world) int {
	n := 0
	for _, d := range w.gh.Deliveries() {
		if d.StatusCode != 0 {
			n++
		}
	}
	return n
}

// The bot refuses to start without a webhook secret, with an unreadable
// key or without a digest key shared by its replicas, and says which.
func TestStartupRefusals(t *testing.T) {
	gh := githubtest.New(t, githubtest.WithLogf(func(string, ...any) {}))
	app := gh.App()
	for name, c := range map[string]struct{ from, to, want string }{
		"no secret":      {"    webhook_secret: " + app.WebhookSecret + "\n", "", "webhook_secret"},
		"unreadable key": {"private_key_file: app.pem", "private_key_file: nope.pem", "private_key_file"},
		"no digest key":  {"digest_key_file: digest.key\n", "", "digest_key_file (or TUGBOAT_DIGEST_KEY_FILE) is not set"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := writeConfig(t, gh, freeAddr(t), "")
			data, _ := readFile(cfg)
			edited := strings.Replace(data, c.from, c.to, 1)
			if edited == data {
				t.Fatal("case changes nothing")
			}
			writeFile(t, cfg, edited)
			out, err := exec.Command(botBin, "serve", "--config", cfg).CombinedOutput()
			if err == nil {
				t.Fatalf("bot started:\n%s", out)
			}
			if !strings.Contains(string(out), c.want) {
				t.Errorf("output does not name %s:\n%s", c.want, out)
			}
			if strings.Contains(string(out), app.WebhookSecret) {
				t.Errorf("output reveals the webhook secret")
			}
		})
	}
}

// metrics reads the metrics of the bot whose public URL is url, from its
// admin listener.
func metrics(t testing.TB, url string) string {
	t.Helper()
	admin, ok := adminOf.Load(url)
	if !ok {
		t.Fatalf("no admin listener known for the bot at %s", url)
	}
	resp, err := http.Get(admin.(string) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// waitIdle waits until the emulator delivered everything and the bot's
// queue is empty with nothing running.
func waitIdle(t testing.TB, w *world) {
	t.Helper()
	w.gh.WaitForDeliveries()
	w.waitFor("the bot to go idle", 60*time.Second, func() bool {
		m := metrics(t, w.bot.url)
		return strings.Contains(m, "tugboat_webhook_queue_depth 0") && strings.Contains(m, "tugboat_webhook_events_running 0")
	})
}
