package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
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

// A target cluster that does not answer leaves the bot ready (pulling every
// replica out of the Service would lose webhooks GitHub never redelivers):
// the admin listener's cluster details and a metric name it instead, from
// the background probe.
func TestReadyzDespiteUnreachableCluster(t *testing.T) {
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
	edited := strings.Replace(string(data), "prod: {kubeconfig: "+prod.Kubeconfig()+"}", "prod: {kubeconfig: "+dead+"}", 1)
	if edited == string(data) {
		t.Fatal("the config names no prod cluster to replace")
	}
	writeFile(t, cfg, edited)
	b := launchBot(t, "http://"+addr, cfg) // waits for /readyz 200

	var details struct {
		GitHub   struct{ Reachable bool }
		Clusters []struct {
			Name      string
			Reachable bool
			Error     string
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(b.admin + "/clusters")
		if err != nil {
			t.Fatal(err)
		}
		details.Clusters = nil
		err = json.NewDecoder(resp.Body).Decode(&details)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(details.Clusters) == 2 && details.Clusters[0].Error != "not probed yet" && details.Clusters[1].Error != "not probed yet" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("clusters never probed: %+v", details)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if c := details.Clusters[0]; c.Name != "prod" || c.Reachable || !strings.Contains(c.Error, "127.0.0.1:1") {
		t.Errorf("prod's details = %+v, want unreachable with the reason", c)
	}
	if c := details.Clusters[1]; c.Name != "staging" || !c.Reachable || c.Error != "" {
		t.Errorf("staging's details = %+v, want reachable", c)
	}
	if !details.GitHub.Reachable {
		t.Errorf("GitHub shown unreachable")
	}
	m := metrics(t, b.url)
	for _, want := range []string{`tugboat_cluster_reachable{cluster="prod"} 0`, `tugboat_cluster_reachable{cluster="staging"} 1`, `tugboat_github_reachable 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	resp, err := http.Get(b.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz = %d %s, want 200 though prod is down", resp.StatusCode, body)
	}
	for _, path := range []string{"/metrics", "/clusters"} { // admin only
		resp, err := http.Get(b.url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("public %s = %d, want 404", path, resp.StatusCode)
		}
	}
}
