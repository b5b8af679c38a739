package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/tugboatops/tugboat/kube"
)

const chromiumPath = "/usr/bin/chromium"

// chromium runs headless Chromium on url with extra flags and returns its
// standard output. Chromium is part of the definition of done (.ci/run
// installs it): a missing one fails the test.
func chromium(t *testing.T, url string, extra ...string) []byte {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s: %v: install chromium (apt-get install chromium)", chromiumPath, err)
	}
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(),
	}, extra...)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromiumPath, append(args, url)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", extra, err, stderr.String())
	}
	return stdout.Bytes()
}

// screenshot saves a screenshot of url (to WEB_SCREENSHOT_DIR as well,
// when set, to look at after the test) and checks it is not blank.
func screenshot(t *testing.T, url, name, size string, minBytes int64) {
	t.Helper()
	shot := filepath.Join(t.TempDir(), name)
	chromium(t, url, "--screenshot="+shot, "--window-size="+size, "--hide-scrollbars")
	fi, err := os.Stat(shot)
	if err != nil || fi.Size() < minBytes {
		t.Fatalf("screenshot %s: %v (%v bytes, want at least %d)", shot, err, fi, minBytes)
	}
	if dir := os.Getenv("WEB_SCREENSHOT_DIR"); dir != "" {
		data, _ := os.ReadFile(shot)
		os.WriteFile(filepath.Join(dir, name), data, 0o644)
	}
}

func (w *world) server(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /badges/", w.h.Public())
	mux.Handle("GET /status/", w.h.Public())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// The status page as a browser builds it: every environment's section
// with its state, links and deploys, nothing hidden, no script; then a
// screenshot.
func TestStatusPageInChromium(t *testing.T) {
	w := statusWorld(t)
	srv := w.server(t)
	dom, err := html.Parse(bytes.NewReader(chromium(t, srv.URL+"/status/acme/app", "--dump-dom")))
	if err != nil {
		t.Fatal(err)
	}
	text := func(n *html.Node) string {
		var b strings.Builder
		var walk func(*html.Node)
		walk = func(n *html.Node) {
			switch n.Type {
			case html.TextNode:
				b.WriteString(n.Data)
			case html.ElementNode:
				// Cells and terms are apart on screen.
				if n.Data == "dt" || n.Data == "dd" || n.Data == "td" || n.Data == "th" {
					b.WriteString(" ")
				}
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		walk(n)
		return strings.Join(strings.Fields(b.String()), " ")
	}
	sections := map[string]string{}
	var scripts int
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if n.Data == "script" {
				scripts++
			}
			for _, a := range n.Attr {
				if n.Data == "section" && a.Key == "id" {
					sections[a.Val] = text(n)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(dom)
	if scripts != 0 {
		t.Errorf("the page has %d scripts, want none", scripts)
	}
	for id, wants := range map[string][]string{
		"env-staging": {"staging drifted", "Cluster k1", "Deployed abc1234 from #7", "By /apply by alice on #7",
			"Lock acme/app#7 (applied by alice)", "Drift 3 objects differ from abc1234", "drift issue"},
		"env-prod": {"prod failed", "Cluster k2", "Deployed fedcba9", "Failure wait: Deployment apps/web <b>not ready</b> after 5m", "Lock free"},
	} {
		got, ok := sections[id]
		if !ok {
			t.Errorf("no section %s in the browser's DOM", id)
			continue
		}
		for _, want := range wants {
			if !strings.Contains(got, want) {
				t.Errorf("section %s lacks %q:\n%s", id, want, got)
			}
		}
	}
	screenshot(t, srv.URL+"/status/acme/app", "status-page.png", "1280,1600", 20_000)
}

// Each badge drawn by a browser: Chromium lays the text out in its own
// font (DejaVu Sans here, Verdana on most desktops), and the width the
// box was made for must be close to what the text really takes, so the
// textLength stretch is barely visible. The page measures every text
// without textLength and writes the widths into the DOM.
func TestBadgeTextFitsInChromium(t *testing.T) {
	w := newWorld(t)
	w.gh.repos["acme/app"] = RepoInfo{}
	envs := map[string]kube.ApplySetRecord{}
	drifted := record("acme/app", "qa", kube.OutcomeConverged, sha, t0)
	drifted.Drift = kube.DriftStatus{State: kube.DriftDrifted, Commit: sha, Time: t0.Add(time.Minute), Objects: 2}
	envs["qa"] = drifted
	envs["staging"] = record("acme/app", "staging", kube.OutcomeConverged, sha, t0)
	envs["production"] = record("acme/app", "production", kube.OutcomeInProgress, sha, t0)
	envs["dev"] = record("acme/app", "dev", kube.OutcomeFailed, sha, t0)
	envs["sandbox-eu-west-1"] = record("acme/app", "sandbox-eu-west-1", "", "", t0)
	var recs []kube.ApplySetRecord
	for _, r := range envs {
		recs = append(recs, r)
	}
	w.clusters.set("k1", recs...)
	w.refresh()
	srv := w.server(t)

	var page strings.Builder
	page.WriteString(`<!DOCTYPE html><html><body style="background:#fff;margin:16px">`)
	for _, env := range []string{"staging", "production", "dev", "qa", "sandbox-eu-west-1", "missing"} {
		r := w.get("/badges/acme/app/" + env + ".svg")
		// The inline copy is measured (hidden: inline SVGs share their
		// clip-path ids); the image, at twice the size, is what a README
		// shows.
		fmt.Fprintf(&page, `<div style="position:absolute;visibility:hidden">%s</div><div style="margin:8px 0"><img style="zoom:2" src="%s/badges/acme/app/%s.svg"></div>`, r.body, srv.URL, env)
	}
	// Measure each text as the browser would draw it without textLength.
	page.WriteString(`<pre id="widths"></pre><script>
var out = [];
document.querySelectorAll('svg text:not([aria-hidden])').forEach(function (t) {
  var want = +t.getAttribute('textLength') / 10;
  t.removeAttribute('textLength');
  out.push(t.textContent + '\t' + want + '\t' + (t.getComputedTextLength() / 10).toFixed(1));
});
document.getElementById('widths').textContent = out.join('\n');
</script></body></html>`)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Type", "text/html")
		rw.Write([]byte(page.String()))
	})
	pageSrv := httptest.NewServer(mux)
	defer pageSrv.Close()

	dom := string(chromium(t, pageSrv.URL, "--dump-dom"))
	start := strings.Index(dom, `<pre id="widths">`)
	end := strings.Index(dom[start:], "</pre>")
	lines := strings.Split(html.UnescapeString(dom[start+len(`<pre id="widths">`):start+end]), "\n")
	if len(lines) != 12 {
		t.Fatalf("measured %d texts, want 12:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for _, l := range lines {
		f := strings.Split(l, "\t")
		want, _ := strconv.ParseFloat(f[1], 64)
		got, _ := strconv.ParseFloat(f[2], 64)
		// DejaVu Sans is a little narrower than Verdana; beyond 15% the
		// stretch would show.
		if got <= 0 || want < got*0.98 || want > got*1.15 {
			t.Errorf("%q: box made for %.0f px, the browser draws it %.1f px wide", f[0], want, got)
		}
	}
	t.Logf("text widths (text, box, drawn):\n%s", strings.Join(lines, "\n"))
	screenshot(t, pageSrv.URL, "badges.png", "600,800", 5_000)
}
