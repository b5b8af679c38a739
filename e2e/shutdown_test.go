package e2e

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/internal/githubtest"
)

// SIGTERM while a plan is being made: the bot stops taking webhooks but
// finishes the plan it acknowledged before it exits, cleanly.
func TestGracefulShutdownDrains(t *testing.T) {
	w := newWorld(t, options{})
	// Posting the comment takes a while, so the signal lands mid-plan.
	w.gh.Fault("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", githubtest.Fault{Delay: 2 * time.Second})
	n, sha := w.openPR("drain", map[string]string{"deploy/prod/app.yaml": configMap("app", "color", "green")})
	w.waitFor("planning to start", 30*time.Second, func() bool { return w.checks(sha)["tugboat/prod"].Status == "in_progress" })
	w.bot.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.bot.done:
	case <-time.After(60 * time.Second):
		t.Fatal("bot did not exit after SIGTERM")
	}
	if code := w.bot.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("bot exited %d after SIGTERM, want 0:\n%s", code, w.bot.logs.String())
	}
	if c := w.checks(sha)["tugboat/prod"]; c.Status != "completed" || c.ExternalID == "" {
		t.Errorf("the acknowledged plan was not finished: %s %s", c.Status, c.Conclusion)
	}
	if len(w.planComments(n, sha)) != 1 {
		t.Errorf("the plan comment was not posted before exit")
	}
	if !strings.Contains(w.bot.logs.String(), "draining the queue") {
		t.Errorf("no drain in the log")
	}
}

// A full queue answers 503, so GitHub records the delivery as failed (and
// it can be redelivered) instead of the bot dropping it silently.
func TestFullQueueAnswers503(t *testing.T) {
	w := newWorld(t, options{extraConfig: "queue: {size: 1, workers: 1}\n"})
	w.gh.Fault("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", githubtest.Fault{Delay: 2 * time.Second})
	_, sha := w.openPR("busy", map[string]string{"deploy/prod/app.yaml": configMap("app", "color", "green")})
	w.waitFor("the worker to be busy", 30*time.Second, func() bool { return w.checks(sha)["tugboat/prod"].Status == "in_progress" })
	body := []byte(`{"action":"labeled","number":99,"repository":{"full_name":"acme/infra"},"installation":{"id":1}}`)
	secret := w.gh.App().WebhookSecret
	codes := []int{
		postWebhook(t, w.bot.url, secret, "pull_request", "q1", body),
		postWebhook(t, w.bot.url, secret, "pull_request", "q2", body),
	}
	if codes[0] != 200 || codes[1] != 503 {
		t.Errorf("answers = %v, want [200 503]: one queued, one refused", codes)
	}
	w.waitPlanned(sha, "prod")
	waitIdle(t, w)
	if !strings.Contains(metrics(t, w.bot.url), `tugboat_webhook_deliveries_total{event="pull_request",outcome="rejected"} 1`) {
		t.Errorf("refused delivery not counted")
	}
}
