package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugboatops/tugboat/internal/githubtest"
	"github.com/tugboatops/tugboat/internal/kubetest"
)

// world is one test's GitHub (emulator with repository acme/infra), its
// namespace in both clusters, and a running bot.
type world struct {
	t    testing.TB
	gh   *githubtest.Server
	repo string
	ns   string
	bot  *bot
}

// options tweak a world.
type options struct {
	// extraConfig is appended to the bot's server config.
	extraConfig string
	// files replace or add to the repository's initial files.
	files map[string]string
	// nsFiles, when set, gives more initial files for the test's namespace.
	nsFiles func(ns string) map[string]string
	// githubVia, when set, is given the emulator's URL and returns the one
	// the bot uses for GitHub instead (a proxy in front of the emulator).
	githubVia func(emulator string) string
	// ghOpts configure the emulator.
	ghOpts []githubtest.Option
	// editConfig, when set, rewrites the bot's server config before it starts.
	editConfig func(cfg string) string
}

// newWorld starts everything and waits until the bot is ready.
func newWorld(t testing.TB, o options) *world {
	t.Helper()
	// Each test has a repository of its own: locks and ApplySets are
	// named after the repository, and the clusters are shared.
	ns := namespace(t)
	w := &world{t: t, repo: "acme/" + ns, ns: ns}
	w.gh = githubtest.New(t, append([]githubtest.Option{githubtest.WithLogf(func(string, ...any) {})}, o.ghOpts...)...)
	files := baseFiles(w.ns)
	for k, v := range o.files {
		files[k] = v
	}
	if o.nsFiles != nil {
		for k, v := range o.nsFiles(w.ns) {
			files[k] = v
		}
	}
	w.gh.CreateRepo(w.repo, githubtest.RepoOptions{Files: files})
	w.gh.CreateInstallation("acme")
	w.gh.SetPermission(w.repo, "alice", "write")
	for _, c := range []*kubetest.Cluster{staging, prod} {
		_, err := c.Client().CoreV1().Namespaces().Create(context.Background(),
			&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: w.ns}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create namespace %s in %s: %v", w.ns, c.Name(), err)
		}
	}
	githubURL := w.gh.URL()
	if o.githubVia != nil {
		githubURL = o.githubVia(githubURL)
	}
	if o.editConfig == nil {
		w.bot = startBotVia(t, w.gh, githubURL, o.extraConfig)
	} else {
		addr := freeAddr(t)
		cfg := writeConfigVia(t, w.gh, githubURL, addr, o.extraConfig)
		data, err := os.ReadFile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, cfg, o.editConfig(string(data)))
		w.bot = launchBot(t, "http://"+addr, cfg)
	}
	w.gh.SetWebhook(w.bot.url+"/api/github/hook", "")
	return w
}

// namespace is a DNS-1123 name unique to the test.
func namespace(t testing.TB) string {
	b := make([]byte, 3)
	rand.Read(b)
	name := strings.ToLower(t.Name())
	name = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, name)
	if len(name) > 40 {
		name = name[:40]
	}
	return strings.Trim(name, "-") + "-" + hex.EncodeToString(b)
}

// baseFiles is the repository's main branch: staging applies on comment,
// prod on merge, each with one ConfigMap.
func baseFiles(ns string) map[string]string {
	return map[string]string{
		".tugboat.yaml": fmt.Sprintf(`version: 1
environments:
  staging:
    cluster: staging
    path: deploy/staging
    namespace: %[1]s
    apply: on-comment
  prod:
    cluster: prod
    path: deploy/prod
    namespace: %[1]s
`, ns),
		"deploy/staging/app.yaml": configMap("app", "color", "blue"),
		"deploy/prod/app.yaml":    configMap("app", "color", "blue"),
		"README.md":               "# infra\n",
	}
}

func configMap(name string, kv ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n", name)
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, "  %s: %q\n", kv[i], kv[i+1])
	}
	return b.String()
}

// bot is a running `bot serve`.
type bot struct {
	url    string
	admin  string // the admin listener's URL (metrics, cluster details)
	config string // its server config file
	cmd    *exec.Cmd
	logs   *syncBuffer
	done   chan struct{}
}

// syncBuffer collects the bot's log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// writeConfig writes the bot's server config for the emulator and both
// clusters and returns its path.
func writeConfig(t testing.TB, gh *githubtest.Server, addr, extra string) string {
	t.Helper()
	return writeConfigVia(t, gh, gh.URL(), addr, extra)
}

// writeConfigVia is writeConfig with the bot reaching GitHub at githubURL.
func writeConfigVia(t testing.TB, gh *githubtest.Server, githubURL, addr, extra string) string {
	t.Helper()
	dir := t.TempDir()
	app := gh.App()
	key := make([]byte, 32)
	rand.Read(key)
	for name, data := range map[string][]byte{"app.pem": app.PrivateKeyPEM, "digest.key": key} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(extra, "resync:") {
		// The leader's resync runs a round at start, beside the test's own
		// deliveries: it would take the faults a test sets up for them.
		// Tests of the resync turn it on.
		extra = "resync: {interval: off}\n" + extra
	}
	cfg := fmt.Sprintf(`github:
  web_url: %[1]s
  v3_api_url: %[1]s/api/v3/
  v4_api_url: %[1]s/api/graphql
  app:
    integration_id: %[2]d
    webhook_secret: %[3]s
    private_key_file: app.pem
address: %[4]s
public_url: http://%[4]s
log_level: debug
digest_key_file: digest.key
clusters:
  staging: {kubeconfig: %[5]s}
  prod: {kubeconfig: %[6]s}
admin_address: %[8]s
%[7]s`, githubURL, app.ID, app.WebhookSecret, addr, staging.Kubeconfig(), prod.Kubeconfig(), extra, freeAddr(t))
	path := filepath.Join(dir, "server.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startBot runs the bot binary and waits for /readyz.
func startBot(t testing.TB, gh *githubtest.Server, extra string) *bot {
	t.Helper()
	return startBotVia(t, gh, gh.URL(), extra)
}

// startBotVia is startBot with the bot reaching GitHub at githubURL.
func startBotVia(t testing.TB, gh *githubtest.Server, githubURL, extra string) *bot {
	t.Helper()
	addr := freeAddr(t)
	return launchBot(t, "http://"+addr, writeConfigVia(t, gh, githubURL, addr, extra))
}

// launchBot runs the bot binary on a server config and waits for /readyz
// at url (the config's address).
func launchBot(t testing.TB, url, cfg string) *bot {
	t.Helper()
	b := &bot{url: url, config: cfg, logs: &syncBuffer{}, done: make(chan struct{})}
	b.admin = adminURL(t, cfg)
	adminOf.Store(url, b.admin)
	b.cmd = exec.Command(botBin, "serve", "--config", cfg)
	b.cmd.Stdout, b.cmd.Stderr = b.logs, b.logs
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("start bot: %v", err)
	}
	go func() { b.cmd.Wait(); close(b.done) }()
	t.Cleanup(func() {
		b.stop(t)
		if t.Failed() {
			t.Logf("bot log:\n%s", b.logs.String())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(b.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return b
			}
		}
		select {
		case <-b.done:
			if log := b.logs.String(); strings.Contains(log, "listen on admin_address") && strings.Contains(log, "address already in use") {
				// freeAddr's port was taken by another process between its
				// pick and the bot's bind: pick again.
				if retried := relaunchOnNewAdminAddr(t, url, cfg); retried != nil {
					return retried
				}
			}
			t.Fatalf("bot exited before it was ready:\n%s", b.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("bot not ready within 60s:\n%s", b.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// adminRetries bounds how often launchBot picks a new admin address.
const adminRetries = 3

var adminRetried sync.Map // config path → retries so far

// relaunchOnNewAdminAddr rewrites cfg's admin_address to a fresh free
// address and launches the bot again; nil once adminRetries are spent.
func relaunchOnNewAdminAddr(t testing.TB, url, cfg string) *bot {
	t.Helper()
	n, _ := adminRetried.LoadOrStore(cfg, 0)
	if n.(int) >= adminRetries {
		return nil
	}
	adminRetried.Store(cfg, n.(int)+1)
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "admin_address: ") {
			line = "admin_address: " + freeAddr(t)
		}
		lines = append(lines, line)
	}
	if err := os.WriteFile(cfg, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	return launchBot(t, url, cfg)
}

// adminOf maps a bot's public URL to its admin URL, so metrics(t, url)
// finds a bot's metrics from the URL tests know it by.
var adminOf sync.Map

// adminURL reads admin_address from the server config at cfg.
func adminURL(t testing.TB, cfg string) string {
	t.Helper()
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if addr, ok := strings.CutPrefix(line, "admin_address: "); ok {
			return "http://" + strings.TrimSpace(addr)
		}
	}
	return ""
}

// stop sends SIGTERM and waits for the graceful shutdown.
func (b *bot) stop(t testing.TB) {
	select {
	case <-b.done:
		return
	default:
	}
	b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(30 * time.Second):
		b.cmd.Process.Kill()
		<-b.done
		t.Errorf("bot did not stop within 30s of SIGTERM")
	}
}

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitFor polls cond until it is true or timeout passes.
func (w *world) waitFor(what string, timeout time.Duration, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			w.t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// botComments are the bot's comments on PR n.
func (w *world) botComments(n int) []githubtest.Comment {
	var out []githubtest.Comment
	for _, c := range w.gh.Comments(w.repo, n) {
		if c.Author == w.gh.Bot().Login {
			out = append(out, c)
		}
	}
	return out
}

// planComments are the bot's plan comments on PR n for head sha.
func (w *world) planComments(n int, sha string) []githubtest.Comment {
	var out []githubtest.Comment
	for _, c := range w.botComments(n) {
		if strings.HasPrefix(c.Body, "<!-- tugboat:plan sha="+sha+" ") {
			out = append(out, c)
		}
	}
	return out
}

// checks returns sha's check runs by name (the latest of each name).
func (w *world) checks(sha string) map[string]githubtest.CheckRun {
	out := map[string]githubtest.CheckRun{}
	for _, c := range w.gh.CheckRuns(w.repo, sha) {
		if prev, ok := out[c.Name]; !ok || c.ID > prev.ID {
			out[c.Name] = c
		}
	}
	return out
}

// countChecks counts sha's check runs named name.
func (w *world) countChecks(sha, name string) int {
	n := 0
	for _, c := range w.gh.CheckRuns(w.repo, sha) {
		if c.Name == name {
			n++
		}
	}
	return n
}

// waitPlanned waits until every named env's check run for sha completed.
func (w *world) waitPlanned(sha string, envs ...string) map[string]githubtest.CheckRun {
	w.t.Helper()
	var got map[string]githubtest.CheckRun
	w.waitFor("check runs "+strings.Join(envs, ", ")+" completed", 90*time.Second, func() bool {
		got = w.checks(sha)
		for _, e := range envs {
			if c, ok := got["tugboat/"+e]; !ok || c.Status != "completed" {
				return false
			}
		}
		return true
	})
	return got
}

// openPR pushes files to branch and opens a PR by alice.
func (w *world) openPR(branch string, files map[string]string) (int, string) {
	sha := w.gh.Commit(w.repo, branch, files, "change "+branch)
	n := w.gh.OpenPR(w.repo, githubtest.PROptions{Head: branch, Title: "Change " + branch, Author: "alice"})
	return n, sha
}

func readFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}

func writeFile(t testing.TB, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// mergeMaps returns a copy of base with over's entries replacing its own.
func mergeMaps(base, over map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}
