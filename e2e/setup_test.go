package e2e

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/html"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugboatops/tugboat/internal/githubtest"
	"github.com/tugboatops/tugboat/internal/kubetest"
)

// setupRun is a running `bot setup`.
type setupRun struct {
	cmd         *exec.Cmd
	out, errOut *syncBuffer
	done        chan struct{}
}

// startSetup runs `bot setup args...`.
func startSetup(t *testing.T, args ...string) *setupRun {
	t.Helper()
	s := &setupRun{out: &syncBuffer{}, errOut: &syncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(botBin, append([]string{"setup"}, args...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.errOut
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start bot setup: %v", err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			s.cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			t.Logf("bot setup stdout:\n%s\nstderr:\n%s", s.out, s.errOut)
		}
	})
	return s
}

var setupPageRE = regexp.MustCompile(`Open (http://\S+)/ in a browser`)

// page waits for the local page's URL in setup's output.
func (s *setupRun) page(t *testing.T) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := setupPageRE.FindStringSubmatch(s.out.String()); m != nil {
			return m[1]
		}
		select {
		case <-s.done:
			t.Fatalf("bot setup exited before serving its page:\n%s%s", s.out, s.errOut)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("bot setup printed no page URL:\n%s", s.out)
	return ""
}

// wait waits for setup to exit and returns its exit status.
func (s *setupRun) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-s.done:
		return s.cmd.ProcessState.ExitCode()
	case <-time.After(60 * time.Second):
		t.Fatalf("bot setup did not exit:\n%s%s", s.out, s.errOut)
		return -1
	}
}

// browserForm does what a browser does with setup's page: GET it and read
// its form (action resolved against the page, the fields it would post).
func browserForm(t *testing.T, page string) (string, url.Values) {
	t.Helper()
	resp, err := http.Get(page + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/: %d", page, resp.StatusCode)
	}
	doc, err := html.Parse(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var action, method string
	fields := url.Values{}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			attr := map[string]string{}
			for _, a := range n.Attr {
				attr[a.Key] = a.Val
			}
			switch n.Data {
			case "form":
				action, method = attr["action"], attr["method"]
			case "input":
				fields.Set(attr["name"], attr["value"])
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if !strings.EqualFold(method, "post") || action == "" {
		t.Fatalf("setup's page has no form posting somewhere (action %q, method %q)", action, method)
	}
	base, _ := url.Parse(page + "/")
	target, err := base.Parse(action)
	if err != nil {
		t.Fatal(err)
	}
	return target.String(), fields
}

// submitToGitHub posts the form to GitHub (the emulator) like the
// person's click and returns where GitHub redirects the browser, without
// going there.
func submitToGitHub(t *testing.T, action string, fields url.Values) *url.URL {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(action, fields)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GitHub refused the manifest form: %d\n%s", resp.StatusCode, body)
	}
	loc, err := resp.Location()
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// visit GETs u as the browser following GitHub's redirect; it returns the
// status and the page's text.
func visit(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// `bot setup` registers the App through the manifest flow — the browser
// step done over HTTP as a person's browser does it — and writes what
// `bot serve` needs: started on exactly that (plus the clusters), with the
// webhook secret from the file as deploy/ passes it, the bot authenticates
// as the new App, receives GitHub's signed deliveries at the manifest's
// webhook URL and plans a pull request. The emulator is addressed like a
// GitHub Enterprise Server (API under /api/v3).
func TestSetupRegistersAppThatServes(t *testing.T) {
	gh := githubtest.New(t, githubtest.WithLogf(func(string, ...any) {}))
	addr := freeAddr(t) // the bot's, known before the App is registered
	dir := filepath.Join(t.TempDir(), "app")
	s := startSetup(t, "--public-url", "http://"+addr, "--github-url", gh.URL(), "--org", "acme", "--dir", dir)

	action, fields := browserForm(t, s.page(t))
	if want := gh.URL() + "/organizations/acme/settings/apps/new?state="; !strings.HasPrefix(action, want) {
		t.Errorf("form posts to %s, want %s…", action, want)
	}
	// A browser follows GitHub's redirect straight back to setup's callback.
	status, text := visit(t, submitToGitHub(t, action, fields).String())
	if status != http.StatusOK || !strings.Contains(text, "is registered") {
		t.Fatalf("callback page: %d\n%s", status, text)
	}
	if code := s.wait(t); code != 0 {
		t.Fatalf("bot setup exited %d:\n%s", code, s.errOut)
	}

	app := gh.App()
	files := map[string]os.FileMode{"private-key.pem": 0o600, "webhook-secret": 0o600, "digest.key": 0o600, "server.yaml": 0o644}
	read := map[string][]byte{}
	for name, mode := range files {
		path := filepath.Join(dir, name)
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatalf("bot setup wrote no %s: %v", name, err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s has mode %v, want %v", name, fi.Mode().Perm(), mode)
		}
		read[name], _ = os.ReadFile(path)
	}
	if !bytes.Equal(read["private-key.pem"], app.PrivateKeyPEM) {
		t.Errorf("private-key.pem is not the registered App's key")
	}
	if block, _ := pem.Decode(read["private-key.pem"]); block == nil {
		t.Errorf("private-key.pem is no PEM")
	} else if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
		t.Errorf("private-key.pem: %v", err)
	}
	if string(read["webhook-secret"]) != app.WebhookSecret {
		t.Errorf("webhook-secret is not the App's webhook secret (exactly, without a newline)")
	}
	if len(read["digest.key"]) != 32 {
		t.Errorf("digest.key has %d bytes, want 32", len(read["digest.key"]))
	}
	if !strings.Contains(string(read["server.yaml"]), "integration_id: "+strconv.FormatInt(app.ID, 10)+" ") {
		t.Errorf("server.yaml lacks integration_id %d:\n%s", app.ID, read["server.yaml"])
	}

	// The next steps, with the App's own install URL and the commands
	// deploy/ needs; no secret in anything setup printed.
	out := s.out.String()
	installURL := fmt.Sprintf("%s/apps/%s/installations/new", gh.URL(), app.Slug)
	for _, want := range []string{
		fmt.Sprintf("Registered the GitHub App %q (id %d, owned by acme)", app.Name, app.ID),
		"1. Install the App on the repositories tugboat should serve:\n     " + installURL,
		"kubectl -n tugboat-system create secret generic tugboat \\\n" +
			"       --from-file=" + filepath.Join(dir, "private-key.pem") + " \\\n" +
			"       --from-file=" + filepath.Join(dir, "webhook-secret") + " \\\n" +
			"       --from-file=" + filepath.Join(dir, "digest.key") + "\n",
		"     github:\n       web_url: " + gh.URL() + "\n       v3_api_url: " + gh.URL() + "/api/v3/\n",
		"    integration_id: " + strconv.FormatInt(app.ID, 10),
		"private_key_file: /etc/tugboat/secret/private-key.pem",
		"digest_key_file: /etc/tugboat/secret/digest.key",
		"kubectl apply -k deploy/overlays/example",
		"bot serve --config " + filepath.Join(dir, "server.yaml"),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("next steps lack %q:\n%s", want, out)
		}
	}
	keyBody := strings.Split(string(app.PrivateKeyPEM), "\n")[1]
	for _, secret := range []string{app.WebhookSecret, keyBody} {
		if strings.Contains(out+s.errOut.String(), secret) {
			t.Errorf("bot setup printed a secret")
		}
	}

	// The person installs the App on acme, from the printed URL.
	ns := namespace(t)
	w := &world{t: t, gh: gh, repo: "acme/" + ns, ns: ns}
	gh.CreateRepo(w.repo, githubtest.RepoOptions{Files: baseFiles(ns)})
	gh.SetPermission(w.repo, "alice", "write")
	if status, text := postPage(t, installURL, url.Values{"account": {"acme"}}); status != http.StatusOK {
		t.Fatalf("install the App: %d %s", status, text)
	}
	for _, c := range []*kubetest.Cluster{staging, prod} {
		if _, err := c.Client().CoreV1().Namespaces().Create(context.Background(),
			&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	// bot serve on setup's server.yaml, plus what it says to add
	// (clusters) and the test's listeners; the webhook secret from the
	// file, as deploy/ passes it. No gh.SetWebhook: GitHub delivers to the
	// manifest's webhook URL.
	cfg := filepath.Join(dir, "server.yaml")
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "address: %s\nadmin_address: %s\nlog_level: debug\nresync: {interval: off}\nclusters:\n  staging: {kubeconfig: %s}\n  prod: {kubeconfig: %s}\n",
		addr, freeAddr(t), staging.Kubeconfig(), prod.Kubeconfig())
	f.Close()
	t.Setenv("GITHUB_APP_WEBHOOK_SECRET", string(read["webhook-secret"]))
	w.bot = launchBot(t, "http://"+addr, cfg)

	n, sha := w.openPR("green", map[string]string{
		"deploy/staging/app.yaml": configMap("app", "color", "green"),
		"deploy/prod/app.yaml":    configMap("app", "color", "green"),
	})
	checks := w.waitPlanned(sha, "staging", "prod")
	if st := checks["tugboat/staging"]; st.Conclusion != "action_required" || !strings.HasPrefix(st.Title, "+1 ~0 −0") {
		t.Errorf("staging: %s %q, want action_required creating the ConfigMap", st.Conclusion, st.Title)
	}
	if len(w.planComments(n, sha)) != 1 {
		t.Errorf("no plan comment by %s on #%d", gh.Bot().Login, n)
	}
	if gh.Bot().Login != app.Slug+"[bot]" {
		t.Errorf("the bot acts as %s, want the registered App's %s[bot]", gh.Bot().Login, app.Slug)
	}
	for _, d := range gh.Deliveries() {
		if d.Event == "pull_request" && d.StatusCode != http.StatusAccepted && d.StatusCode != http.StatusOK {
			t.Errorf("delivery %s.%s answered %d %s", d.Event, d.Action, d.StatusCode, d.Err)
		}
	}
}

// eventually polls cond until it holds or timeout passes.
func eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// postPage posts a web form as a browser does (following redirects).
func postPage(t *testing.T, u string, form url.Values) (int, string) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// A callback whose state is not the form's is refused — clearly, and
// without ending the run — and the genuine one still completes it.
func TestSetupRefusesForeignState(t *testing.T) {
	gh := githubtest.New(t, githubtest.WithLogf(func(string, ...any) {}))
	dir := filepath.Join(t.TempDir(), "app")
	s := startSetup(t, "--public-url", "https://tugboat.example.com", "--github-url", gh.URL(), "--dir", dir)
	action, fields := browserForm(t, s.page(t))
	loc := submitToGitHub(t, action, fields)

	forged := *loc
	q := forged.Query()
	q.Set("state", "0123456789abcdef0123456789abcdef")
	forged.RawQuery = q.Encode()
	status, text := visit(t, forged.String())
	if status != http.StatusBadRequest || !strings.Contains(text, "state does not match the form bot setup served") {
		t.Errorf("forged callback: %d\n%s", status, text)
	}
	// stderr reaches the test through a pipe: give it a moment.
	if !eventually(5*time.Second, func() bool {
		return strings.Contains(s.errOut.String(), "refused a callback whose state does not match")
	}) {
		t.Errorf("setup's stderr does not say it refused:\n%s", s.errOut)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a refused callback wrote %s (%v)", dir, err)
	}
	if status, text := visit(t, loc.String()); status != http.StatusOK {
		t.Fatalf("genuine callback after the forged one: %d\n%s", status, text)
	}
	if code := s.wait(t); code != 0 {
		t.Errorf("bot setup exited %d", code)
	}
}

// A code used by someone else first is refused by GitHub; setup says so
// with GitHub's answer and what to do, writes nothing, and fails.
func TestSetupReusedCode(t *testing.T) {
	gh := githubtest.New(t, githubtest.WithLogf(func(string, ...any) {}))
	dir := filepath.Join(t.TempDir(), "app")
	s := startSetup(t, "--public-url", "https://tugboat.example.com", "--github-url", gh.URL(), "--dir", dir)
	action, fields := browserForm(t, s.page(t))
	loc := submitToGitHub(t, action, fields)
	code := loc.Query().Get("code")
	resp, err := http.Post(gh.URL()+"/app-manifests/"+code+"/conversions", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("first exchange: %d", resp.StatusCode)
	}

	status, text := visit(t, loc.String())
	want := "GitHub answered 404 Not Found: Not Found. The code was used already or has expired"
	if status != http.StatusBadGateway || !strings.Contains(text, want) {
		t.Errorf("callback page: %d, want 502 with %q:\n%s", status, want, text)
	}
	if c := s.wait(t); c != 1 {
		t.Errorf("bot setup exited %d, want 1", c)
	}
	if errOut := s.errOut.String(); !strings.Contains(errOut, want) || strings.Contains(errOut, code) {
		t.Errorf("stderr does not explain the refusal (or shows the code):\n%s", errOut)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files written after a failed exchange: %v", entries)
	}
}

// Existing credentials are never overwritten: setup refuses before it
// registers anything (an App whose credentials cannot be written would
// have to be deleted by hand); --force overwrites.
func TestSetupKeepsExistingFiles(t *testing.T) {
	gh := githubtest.New(t, githubtest.WithLogf(func(string, ...any) {}))
	dir := t.TempDir()
	old := filepath.Join(dir, "webhook-secret")
	writeFile(t, old, "old secret")
	s := startSetup(t, "--public-url", "https://tugboat.example.com", "--github-url", gh.URL(), "--dir", dir)
	if c := s.wait(t); c != 1 {
		t.Fatalf("bot setup exited %d, want 1", c)
	}
	if want := old + " exists: bot setup does not overwrite an App's credentials"; !strings.Contains(s.errOut.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, s.errOut)
	}
	if got, _ := readFile(old); got != "old secret" {
		t.Errorf("webhook-secret overwritten: %q", got)
	}

	s = startSetup(t, "--public-url", "https://tugboat.example.com", "--github-url", gh.URL(), "--dir", dir, "--force")
	action, fields := browserForm(t, s.page(t))
	if status, text := visit(t, submitToGitHub(t, action, fields).String()); status != http.StatusOK {
		t.Fatalf("callback: %d %s", status, text)
	}
	if c := s.wait(t); c != 0 {
		t.Fatalf("bot setup --force exited %d", c)
	}
	if got, _ := readFile(old); got != gh.App().WebhookSecret {
		t.Errorf("--force did not write the new webhook secret")
	}
}
