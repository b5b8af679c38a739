package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"golang.org/x/net/html"
)

// The pull request page is what a person looks at: these checks read it
// the way they would — the emulator's server-rendered HTML for --script,
// Chromium's DOM of the same page in TestSandbox — and say what is missing
// or folded away.

// fetchPage gets the pull request page's HTML from the emulator and parses it.
func (s *Sandbox) fetchPage(ctx context.Context) (*html.Node, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.PRURL(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("load the pull request page: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return nil, fmt.Errorf("load the pull request page: %s: %s", resp.Status, body)
	}
	dom, err := html.Parse(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parse the pull request page: %w", err)
	}
	return dom, nil
}

// planPageProblems lists what the page of the opened pull request lacks:
// the plan comment's summary table (a row per environment, outside any
// closed <details>) and a check-run box per environment with its
// conclusion.
func planPageProblems(dom *html.Node, want expectedPlan) []string {
	var problems []string
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
			problems = append(problems, fmt.Sprintf("summary row of %s: got %q, want it to start with %q", env, got, want))
		}
	}
	checks := checkRunBoxes(dom)
	for name, conclusion := range want.Conclusions {
		if checks[name] != conclusion {
			problems = append(problems, fmt.Sprintf("check run %s shows %q, want %q (all: %v)", name, checks[name], conclusion, checks))
		}
	}
	return problems
}

// checkRunBoxes maps each check-run box's name to the state it shows; a
// later box of a name (a newer run) wins.
func checkRunBoxes(dom *html.Node) map[string]string {
	checks := map[string]string{}
	for _, box := range findAll(dom, hasClass("check-run")) {
		header := first(findAll(box, isTag("header")))
		if header == nil {
			continue
		}
		checks[text(first(findAll(header, isTag("b"))))] = text(first(findAll(header, isTag("span"))))
	}
	return checks
}

// appliedPageProblems lists what the page of the merged pull request lacks:
// it is merged; the statuses tugboat/apply/staging (on the head, applied
// before merge) and tugboat/apply/prod (on the merge commit) succeeded;
// the Deployments to staging and prod succeeded; and the result comments
// of both say they converged. Nothing of it may be folded away.
func appliedPageProblems(dom *html.Node) []string {
	var problems []string
	if !visibleMatch(dom, hasClass("merged"), func(t string) bool { return t == "Merged" }) {
		problems = append(problems, "the pull request is not shown as Merged")
	}
	onHead := func(n *html.Node) bool { return hasClass("status")(n) && !hasClass("merge-status")(n) }
	for _, st := range []struct {
		where   func(*html.Node) bool
		context string
	}{
		{onHead, "tugboat/apply/staging"},
		{hasClass("merge-status"), "tugboat/apply/prod"},
	} {
		got := ""
		for _, p := range findAll(dom, st.where) {
			if text(first(findAll(p, isTag("b")))) == st.context && !hidden(p) {
				got = text(first(findAll(p, isTag("span"))))
			}
		}
		if got != "success" {
			problems = append(problems, fmt.Sprintf("status %s shows %q, want success", st.context, got))
		}
	}
	for _, env := range []string{"staging", "prod"} {
		got := ""
		for _, p := range findAll(dom, hasClass("deployment")) {
			if strings.Contains(text(p), "deployed to "+env+" ") && !hidden(p) {
				got = text(first(findAll(p, isTag("span"))))
			}
		}
		if got != "success" {
			problems = append(problems, fmt.Sprintf("the Deployment to %s shows %q, want success (\"deployed to %s\")", env, got, env))
		}
	}
	for _, heading := range []string{"✅ staging: applied, converged in", "✅ prod: deployed, converged in"} {
		if !visibleMatch(dom, func(n *html.Node) bool { return n.Data == "h2" && within(n, "comment") },
			func(t string) bool { return strings.HasPrefix(t, heading) }) {
			problems = append(problems, fmt.Sprintf("no result comment headed %q", heading+" …"))
		}
	}
	return problems
}

// visibleMatch reports whether some element matching match, not folded
// away, has text for which ok holds.
func visibleMatch(dom *html.Node, match func(*html.Node) bool, ok func(string) bool) bool {
	for _, n := range findAll(dom, match) {
		if !hidden(n) && ok(text(n)) {
			return true
		}
	}
	return false
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
