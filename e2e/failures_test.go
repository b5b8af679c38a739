package e2e

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/internal/githubtest"
)

// An environment the bot cannot plan (its cluster is not in the registry)
// fails its check with a message saying why; the others are planned.
func TestUnplannableEnvFailsWithMessage(t *testing.T) {
	w := newWorld(t, options{})
	cfg := baseFiles(w.ns)[".tugboat.yaml"] + "  qa:\n    cluster: nowhere\n    path: deploy/qa\n"
	w.gh.Commit(w.repo, "main", map[string]string{".tugboat.yaml": cfg, "deploy/qa/app.yaml": configMap("app", "color", "blue")}, "add qa")
	_, sha := w.openPR("qa", map[string]string{
		"deploy/qa/app.yaml":   configMap("app", "color", "green"),
		"deploy/prod/app.yaml": configMap("app", "color", "green"),
	})
	checks := w.waitPlanned(sha, "qa", "prod")
	qa := checks["tugboat/qa"]
	if qa.Conclusion != "failure" || !strings.Contains(qa.Summary+qa.Text, `cluster "nowhere" is not in the server's cluster registry`) {
		t.Errorf("qa = %s:\n%s", qa.Conclusion, qa.Summary)
	}
	if c := checks["tugboat/prod"]; c.ExternalID == "" || c.Conclusion == "failure" {
		t.Errorf("prod = %s %q, want planned", c.Conclusion, c.Title)
	}
}

// When GitHub keeps failing before anything is known (the tarball cannot
// be fetched), a check run "tugboat" says so; the delivery counts as failed
// so a redelivery can run it again.
func TestEarlyFailureReported(t *testing.T) {
	w := newWorld(t, options{})
	w.gh.Fault("GET", "/repos/{owner}/{repo}/tarball/{ref}", githubtest.Fault{Status: 503, Times: 10})
	_, sha := w.openPR("early", map[string]string{"deploy/prod/app.yaml": configMap("app", "color", "green")})
	var run githubtest.CheckRun
	w.waitFor("the tugboat check run", 60*time.Second, func() bool { run = w.checks(sha)["tugboat"]; return run.Status == "completed" })
	if run.Conclusion != "failure" || !strings.Contains(run.Summary, "tarball") || !strings.Contains(run.Summary, "503") {
		t.Errorf("tugboat = %s:\n%s", run.Conclusion, run.Summary)
	}
	waitIdle(t, w)
	if !strings.Contains(metrics(t, w.bot.url), `tugboat_webhook_deliveries_total{event="pull_request",outcome="failed"} 1`) {
		t.Errorf("the failed handling was not counted as failed")
	}
	// GitHub recovered: a redelivery plans, and the early failure is cleared.
	for _, d := range w.gh.Deliveries() {
		if d.Event == "pull_request" && d.Action == "opened" {
			w.gh.Redeliver(d.ID)
		}
	}
	w.waitPlanned(sha, "prod")
	waitIdle(t, w)
	if run := w.checks(sha)["tugboat"]; run.Conclusion != "success" {
		t.Errorf("after a successful plan the early failure still shows: %s %q", run.Conclusion, run.Title)
	}
}

// /readyz names a cluster that does not answer; /healthz still answers.
func TestReadyzNamesUnreachableCluster(t *testing.T) {
	gh := githubtest.New(t, githubtest.WithLogf(func(string, ...any) {}))
	addr := freeAddr(t)
	cfg := writeConfig(t, gh, addr, "")
	dead := filepath.Join(t.TempDir(), "dead.kubeconfig")
	writeFile(t, dead, `apiVersion: v1
kind: Config
clusters: [{name: dead, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: dead, context: {cluster: dead, user: u}}]
current-context: dead
`)
	data, _ := os.ReadFile(cfg)
	writeFile(t, cfg, strings.Replace(string(data), "prod: {kubeconfig: "+prod.Kubeconfig()+"}", "prod: {kubeconfig: "+dead+"}", 1))
	cmd := exec.Command(botBin, "serve", "--config", cfg)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	url := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url + "/healthz")
		if err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bot never healthy:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "cluster prod") || strings.Contains(string(body), "cluster staging") {
		t.Errorf("/readyz = %d %s", resp.StatusCode, body)
	}

}
