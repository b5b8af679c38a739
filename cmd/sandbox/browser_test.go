package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

const chromiumPath = "/usr/bin/chromium"

// findChromium fails the test when Debian's chromium is missing: the
// browser check is part of the product's definition of done, not optional.
func findChromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s: %v: install chromium (apt-get install chromium)", chromiumPath, err)
	}
	return chromiumPath
}

// chromium runs headless Chromium on url with extra flags and returns its
// standard output.
func chromium(t *testing.T, bin, url string, extra ...string) []byte {
	t.Helper()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(),
	}, extra...)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", extra, err, tail(stderr.String(), 4000))
	}
	return stdout.Bytes()
}

// checkPageInBrowser loads the pull request page in a real browser and
// checks that the plan comment's summary table and the check runs are
// there and not folded away, then saves a screenshot.
func checkPageInBrowser(t *testing.T, bin string, sb *Sandbox) {
	dom := browserDOM(t, bin, sb)
	for _, p := range planPageProblems(dom, planOfPR) {
		t.Error(p)
	}
	// Nothing is applied or merged yet: the check of the merged page must
	// find each of its seven items missing, or it could not fail later.
	if got := appliedPageProblems(dom); len(got) != 7 {
		t.Errorf("the opened PR's page passes part of the merged page's check: %d problems, want 7:\n%s", len(got), strings.Join(got, "\n"))
	}
	screenshot(t, bin, sb, "pr-page.png")
}

// checkAppliedPageInBrowser loads the merged pull request's page in a real
// browser: the apply statuses, the Deployments and the result comments
// must be there and not folded away.
func checkAppliedPageInBrowser(t *testing.T, bin string, sb *Sandbox) {
	for _, p := range appliedPageProblems(browserDOM(t, bin, sb)) {
		t.Error(p)
	}
	screenshot(t, bin, sb, "pr-page-merged.png")
}

// browserDOM is the pull request page's DOM as headless Chromium built it.
func browserDOM(t *testing.T, bin string, sb *Sandbox) *html.Node {
	t.Helper()
	dom, err := html.Parse(bytes.NewReader(chromium(t, bin, sb.PRURL(), "--dump-dom")))
	if err != nil {
		t.Fatalf("parse the DOM: %v", err)
	}
	return dom
}

// screenshot saves a screenshot of the page (to SANDBOX_SCREENSHOT_DIR as
// well, when set, to look at after the test) and checks it is not blank.
func screenshot(t *testing.T, bin string, sb *Sandbox, name string) {
	t.Helper()
	shot := filepath.Join(t.TempDir(), name)
	chromium(t, bin, sb.PRURL(), "--screenshot="+shot, "--window-size=1280,2400", "--hide-scrollbars")
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10_000 {
		t.Fatalf("screenshot %s: %v (size %v)", shot, err, fi)
	}
	t.Logf("screenshot: %s", shot)
	if dir := os.Getenv("SANDBOX_SCREENSHOT_DIR"); dir != "" {
		data, _ := os.ReadFile(shot)
		os.WriteFile(filepath.Join(dir, name), data, 0o644)
	}
}
