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
	dom, err := html.Parse(bytes.NewReader(chromium(t, bin, sb.PRURL(), "--dump-dom")))
	if err != nil {
		t.Fatalf("parse the DOM: %v", err)
	}

	// The summary table: a table in a comment, outside any closed
	// <details>, with a row per environment.
	rows := map[string][]string{}
	for _, table := range findAll(dom, func(n *html.Node) bool { return n.Data == "table" && within(n, "comment") }) {
		if hidden(table) {
			continue
		}
		header := cells(first(findAll(table, isTag("tr"))))
		if len(header) == 0 || header[0] != "Environment" {
			continue
		}
		for _, tr := range findAll(table, isTag("tr"))[1:] {
			if c := cells(tr); len(c) > 0 {
				rows[c[0]] = c
			}
		}
	}
	for env, want := range map[string][]string{
		"staging": {"staging", "staging", "+0 ~4 −1", "0"},
		"prod":    {"prod", "prod", "+0 ~2 −0", "0"},
	} {
		got := rows[env]
		if len(got) < len(want) || !equal(got[:len(want)], want) {
			t.Errorf("summary row of %s: got %q, want it to start with %q", env, got, want)
		}
	}

	// The check runs: one box per environment with its conclusion.
	checks := map[string]string{}
	for _, box := range findAll(dom, hasClass("check-run")) {
		header := first(findAll(box, isTag("header")))
		if header == nil {
			continue
		}
		checks[text(first(findAll(header, isTag("b"))))] = text(first(findAll(header, isTag("span"))))
	}
	for name, want := range planOfPR.Conclusions {
		if checks[name] != want {
			t.Errorf("check run %s shows %q, want %q (all: %v)", name, checks[name], want, checks)
		}
	}

	shot := filepath.Join(t.TempDir(), "pr-page.png")
	chromium(t, bin, sb.PRURL(), "--screenshot="+shot, "--window-size=1280,2400", "--hide-scrollbars")
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10_000 {
		t.Fatalf("screenshot %s: %v (size %v)", shot, err, fi)
	}
	t.Logf("screenshot: %s", shot)
	if dir := os.Getenv("SANDBOX_SCREENSHOT_DIR"); dir != "" { // to look at it after the test
		data, _ := os.ReadFile(shot)
		os.WriteFile(filepath.Join(dir, "pr-page.png"), data, 0o644)
	}
}

func isTag(tag string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == tag }
}

func hasClass(class string) func(*html.Node) bool {
	return func(n *html.Node) bool {
		return n.Type == html.ElementNode && contains(strings.Fields(attr(n, "class")), class)
	}
}

func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && match(c) {
			out = append(out, c)
		}
		out = append(out, findAll(c, match)...)
	}
	return out
}

// within reports whether n sits inside an element of class.
func within(n *html.Node, class string) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if hasClass(class)(p) {
			return true
		}
	}
	return false
}

// hidden reports whether n is folded away: inside a <details> without
// open, other than in its <summary>, or styled display:none.
func hidden(n *html.Node) bool {
	for p := n; p != nil; p = p.Parent {
		if strings.Contains(strings.ReplaceAll(attr(p, "style"), " ", ""), "display:none") {
			return true
		}
		if p.Parent != nil && p.Parent.Data == "details" && p.Data != "summary" {
			if _, open := attrOK(p.Parent, "open"); !open {
				return true
			}
		}
	}
	return false
}

func first(ns []*html.Node) *html.Node {
	if len(ns) == 0 {
		return nil
	}
	return ns[0]
}

func cells(tr *html.Node) []string {
	var out []string
	if tr == nil {
		return nil
	}
	for c := tr.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && (c.Data == "td" || c.Data == "th") {
			out = append(out, text(c))
		}
	}
	return out
}

func text(n *html.Node) string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

func attr(n *html.Node, key string) string {
	v, _ := attrOK(n, key)
	return v
}

func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
