package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"golang.org/x/net/html"

	"github.com/tugboatops/tugboat/comments"
)

// What --script checks of the bot's own pages, as a README's badge and a
// browser would read them: the badge of an environment (the shields.io
// endpoint JSON and the SVG a README embeds) and the repository's status
// page (server-rendered HTML, no JavaScript).

// webTimeout bounds the wait for a badge or the status page to show a
// drift round's outcome: the pages are served from a snapshot refreshed
// every web.refresh (15 s by default), so up to a refresh after the drift
// issue or status changed, plus a slow refresh on a busy machine.
const webTimeout = 4 * driftInterval

// badgeJSON is the shields.io endpoint schema the .json badge answers.
type badgeJSON struct {
	SchemaVersion int    `json:"schemaVersion"`
	Label         string `json:"label"`
	Message       string `json:"message"`
	Color         string `json:"color"`
}

// badgeURL is env's badge (ext "svg" or "json"); the sandbox's repository
// is public, so it needs no token.
func (s *Sandbox) badgeURL(env, ext string) string {
	return s.BotURL + "/badges/" + repoName + "/" + env + "." + ext
}

// statusURL is the repository's status page.
func (s *Sandbox) statusURL() string { return s.BotURL + "/status/" + repoName }

// get fetches url and returns its answer with the body read.
func get(ctx context.Context, url string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: read: %w", url, err)
	}
	return resp, body, nil
}

// waitBadge waits until env's badge says message in color, as both the
// JSON and the SVG, served uncached (GitHub's image proxy would otherwise
// keep showing an old state).
func (s *Sandbox) waitBadge(ctx context.Context, env, message, color string) error {
	var last string
	err := poll(ctx, webTimeout, func() bool {
		resp, body, err := get(ctx, s.badgeURL(env, "json"))
		if err != nil {
			last = err.Error()
			return false
		}
		var b badgeJSON
		if err := json.Unmarshal(body, &b); err != nil || resp.StatusCode != http.StatusOK {
			last = fmt.Sprintf("%s: %s", resp.Status, head(string(body), 200))
			return false
		}
		last = fmt.Sprintf("%q in %s", b.Message, b.Color)
		return b.SchemaVersion == 1 && b.Label == env && b.Message == message && b.Color == color
	})
	if err != nil {
		return fmt.Errorf("badge %s says %s, want %q in %s: %w", s.badgeURL(env, "json"), last, message, color, err)
	}
	resp, body, err := get(ctx, s.badgeURL(env, "svg"))
	if err != nil {
		return err
	}
	svg := string(body)
	switch {
	case resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/svg+xml"):
		return fmt.Errorf("badge %s: %s, Content-Type %q", s.badgeURL(env, "svg"), resp.Status, resp.Header.Get("Content-Type"))
	case !strings.Contains(resp.Header.Get("Cache-Control"), "no-cache") || resp.Header.Get("ETag") == "":
		return fmt.Errorf("badge %s is served with Cache-Control %q and ETag %q: GitHub's image proxy would cache it", s.badgeURL(env, "svg"), resp.Header.Get("Cache-Control"), resp.Header.Get("ETag"))
	case !strings.Contains(svg, ">"+message+"<"):
		return fmt.Errorf("badge %s does not say %q:\n%s", s.badgeURL(env, "svg"), message, head(svg, 1500))
	}
	return nil
}

// envOnPage is what the status page shows of one environment.
type envOnPage struct {
	State, Cluster, Deployed, Drift, DriftIssue string
	// Deploys is the number of rows of the deploys table (0 when it says
	// none are recorded).
	Deploys int
}

// statusPage reads env's section of the repository's status page.
func (s *Sandbox) statusPage(ctx context.Context, env string) (envOnPage, error) {
	resp, body, err := get(ctx, s.statusURL())
	if err != nil {
		return envOnPage{}, err
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		return envOnPage{}, fmt.Errorf("status page %s: %s, Content-Type %q", s.statusURL(), resp.Status, resp.Header.Get("Content-Type"))
	}
	dom, err := html.Parse(strings.NewReader(string(body)))
	if err != nil {
		return envOnPage{}, fmt.Errorf("parse the status page: %w", err)
	}
	sec := first(findAll(dom, func(n *html.Node) bool { return n.Data == "section" && attr(n, "id") == "env-"+env }))
	if sec == nil {
		return envOnPage{}, fmt.Errorf("status page %s has no section for %s", s.statusURL(), env)
	}
	var p envOnPage
	if st := first(findAll(sec, hasClass("state"))); st != nil {
		p.State = text(st)
	}
	// The section's facts are a <dl>: each <dt> names the <dd> after it.
	for _, dt := range findAll(sec, isTag("dt")) {
		dd := dt.NextSibling
		for dd != nil && dd.Type != html.ElementNode {
			dd = dd.NextSibling
		}
		if dd == nil {
			continue
		}
		switch text(dt) {
		case "Cluster":
			p.Cluster = text(dd)
		case "Deployed":
			p.Deployed = text(dd)
		case "Drift":
			p.Drift = text(dd)
			if a := first(findAll(dd, hasClass("drift-issue"))); a != nil {
				p.DriftIssue = attr(a, "href")
			}
		}
	}
	for _, table := range findAll(sec, hasClass("deploys")) {
		for _, tr := range findAll(table, isTag("tr"))[1:] {
			if c := cells(tr); len(c) > 1 {
				p.Deploys++
			}
		}
	}
	return p, nil
}

// waitStatusPage waits until env's section of the status page satisfies
// ok, which says what is missing ("" when nothing is).
func (s *Sandbox) waitStatusPage(ctx context.Context, env string, ok func(envOnPage) string) (envOnPage, error) {
	var (
		p    envOnPage
		last string
	)
	err := poll(ctx, webTimeout, func() bool {
		got, err := s.statusPage(ctx, env)
		if err != nil {
			last = err.Error()
			return false
		}
		p, last = got, ok(got)
		return last == ""
	})
	if err != nil {
		return p, fmt.Errorf("status page %s, %s: %s (shows %+v): %w", s.statusURL(), env, last, p, err)
	}
	return p, nil
}

// prodOnPage checks prod's section as it must read in state, deployed at
// commit, with the drift line and issue link drift wants.
func (s *Sandbox) prodOnPage(ctx context.Context, state, commit, drift, issue string) (envOnPage, error) {
	return s.waitStatusPage(ctx, "prod", func(p envOnPage) string {
		switch {
		case p.State != state:
			return fmt.Sprintf("state %q, want %q", p.State, state)
		case p.Cluster != "prod":
			return fmt.Sprintf("cluster %q, want prod", p.Cluster)
		case !strings.HasPrefix(p.Deployed, comments.ShortSHA(commit)):
			return fmt.Sprintf("deployed %q, want %s", p.Deployed, comments.ShortSHA(commit))
		case !strings.HasPrefix(p.Drift, drift):
			return fmt.Sprintf("drift %q, want it to start with %q", p.Drift, drift)
		case issue != "" && !strings.HasSuffix(p.DriftIssue, issue):
			return fmt.Sprintf("drift issue link %q, want one to %s", p.DriftIssue, issue)
		case p.Deploys == 0:
			return "no deploys listed"
		}
		return ""
	})
}
