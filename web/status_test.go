package web

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/kube"
)

// statusWorld has a public repository with a history of deploys, a lock,
// a drift issue and GitHub Deployments, and a private one.
func statusWorld(t *testing.T) *world {
	w := newWorld(t)
	w.gh.repos["acme/app"] = RepoInfo{HTMLURL: "https://github.example.com/acme/app"}
	w.gh.repos["acme/secret"] = RepoInfo{Private: true}
	staging := record("acme/app", "staging", kube.OutcomeConverged, sha, t0)
	staging.Record.PR, staging.Record.Trigger, staging.Record.Head = 7, kube.TriggerApply, "7777777head"
	for i := range 12 {
		staging.Record.History = append(staging.Record.History, kube.Deploy{
			Commit: sha, PR: 7 - i%2, Outcome: kube.OutcomeConverged, Time: t0.Add(-time.Duration(i) * time.Hour), Trigger: kube.TriggerApply,
		})
	}
	staging.Drift = kube.DriftStatus{State: kube.DriftDrifted, Objects: 3, Commit: sha, Time: t0.Add(5 * time.Minute), Issue: 42}
	prod := record("acme/app", "prod", kube.OutcomeFailed, "fedcba9876543210", t0)
	prod.Record.Message = `wait: Deployment apps/web <b>not ready</b> after 5m`
	w.clusters.set("k1", staging, record("acme/secret", "prod", kube.OutcomeConverged, sha, t0))
	w.clusters.set("k2", prod)
	w.clusters.locks["acme/app/staging"] = &kube.LockInfo{Holder: "acme/app#7", By: "alice", At: t0}
	w.gh.deps["acme/app/staging"] = []Deployment{{ID: 9, SHA: "7777777head", Commit: sha, PR: 7, Description: "/apply by alice on #7", State: "success", LogURL: "https://github.example.com/acme/app/runs/5"}}
	w.clock.add(10 * time.Minute)
	w.refresh()
	return w
}

// A repository's page shows each environment: cluster, what is deployed
// (linked), when and by whom, the state, the lock, the drift issue and the
// last ten deploys; values from clusters are escaped.
func TestRepoStatusPage(t *testing.T) {
	w := statusWorld(t)
	r := w.get("/status/acme/app")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("status page: %d %s", r.status, r.header.Get("Content-Type"))
	}
	page := r.body
	for _, want := range []string{
		`<section class="env" id="env-staging">`,
		`<span class="state drifted">drifted</span>`,
		`<dt>Cluster</dt><dd>k1</dd>`,
		`<a class="commit" href="https://github.example.com/acme/app/commit/` + sha + `"><code>abc1234</code></a>`,
		`<a class="pr" href="https://github.example.com/acme/app/pull/7">#7</a>`,
		`2026-03-04 10:00 UTC <span class="muted">(10 min ago)</span>`,
		`<dt>By</dt><dd>/apply by alice on #7</dd>`,
		`<a href="https://github.example.com/acme/app/pull/7">acme/app#7 (applied by alice)</a>`,
		`3 objects differ from abc1234, checked 5 min ago · <a class="drift-issue" href="https://github.example.com/acme/app/issues/42">drift issue</a>`,
		`<a href="https://github.example.com/acme/app/runs/5">/apply by alice on #7</a>`,
		`<span class="state failed">failed</span>`,
		`<dt>Failure</dt><dd>wait: Deployment apps/web &lt;b&gt;not ready&lt;/b&gt; after 5m</dd>`,
		`[![staging](https://tugboat.example.com/badges/acme/app/staging.svg)](https://tugboat.example.com/status/acme/app)`,
		`<dd><span class="muted">free</span></dd>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	staging := page[strings.Index(page, `id="env-staging"`):]
	staging = staging[:strings.Index(staging, "</section>")]
	if n := strings.Count(staging, `<tr><td class="nowrap">2026-`); n != MaxDeploys {
		t.Errorf("staging lists %d deploys, want the last %d", n, MaxDeploys)
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "<b>not") {
		t.Errorf("page carries unescaped markup")
	}
	if strings.Contains(page, "acme/secret") {
		t.Errorf("a repository's page names another repository")
	}
}

// A private repository's page needs its token; without it (or with a
// badge token) it is the unknown repository's 404, byte for byte.
func TestPrivateStatusPageToken(t *testing.T) {
	w := statusWorld(t)
	unknown := w.get("/status/acme/nothing")
	if unknown.status != 404 || !strings.Contains(unknown.body, `id="not-found"`) {
		t.Fatalf("unknown repository: %d %s", unknown.status, unknown.body)
	}
	for _, q := range []string{"", "?token=", "?token=0011", "?token=" + BadgeToken(w.key, "acme/secret", "prod"), "?token=" + StatusToken(w.key, "acme/app")} {
		r := w.get("/status/acme/secret" + q)
		if r.status != 404 || r.body != unknown.body {
			t.Errorf("private page%s: %d, want the unknown repository's 404", q, r.status)
		}
	}
	r := w.get("/status/acme/secret?token=" + StatusToken(w.key, "acme/secret"))
	if r.status != 200 || !strings.Contains(r.body, `id="env-prod"`) {
		t.Fatalf("private page with its token: %d", r.status)
	}
	// The page's badge snippet carries the badge's own token, which works.
	badge := "/badges/acme/secret/prod.svg?token=" + BadgeToken(w.key, "acme/secret", "prod")
	snippet := "[![prod](https://tugboat.example.com" + badge + ")](https://tugboat.example.com/status/acme/secret?token=" + StatusToken(w.key, "acme/secret") + ")"
	if !strings.Contains(r.body, snippet) {
		t.Errorf("private page lacks the tokened badge snippet %s", snippet)
	}
	if b := w.get(badge); b.status != 200 {
		t.Errorf("the page's badge URL answered %d", b.status)
	}
}

// /status lists every repository, with links to each page carrying its
// token, and only with the admin token.
func TestAllStatusPage(t *testing.T) {
	w := statusWorld(t)
	for _, q := range []string{"", "?token=wrong"} {
		if r := w.get("/status" + q); r.status != 404 || strings.Contains(r.body, "acme/") {
			t.Errorf("/status%s: %d, want 404", q, r.status)
		}
	}
	for _, r := range []response{w.get("/status?token=admin-secret-token"), w.get("/status", "Authorization", "Bearer admin-secret-token")} {
		if r.status != 200 {
			t.Fatalf("/status with the admin token: %d", r.status)
		}
		for _, want := range []string{
			`<a href="https://tugboat.example.com/status/acme/app">acme/app</a>`,
			`<a href="https://tugboat.example.com/status/acme/secret?token=` + StatusToken(w.key, "acme/secret") + `">acme/secret</a> <span class="muted">(private)</span>`,
			`<span class="state failed">failed</span>`,
		} {
			if !strings.Contains(r.body, want) {
				t.Errorf("/status lacks %q", want)
			}
		}
	}
}

// Values anyone with write access controls (a record edited by hand in
// the cluster, a Deployment description) are escaped, links included.
func TestStatusPageEscapes(t *testing.T) {
	w := newWorld(t)
	w.gh.repos["acme/app"] = RepoInfo{}
	rec := record("acme/app", "staging", kube.OutcomeFailed, `"><script>alert(1)</script>`, t0)
	rec.Record.Message = "<img src=x onerror=alert(1)>"
	w.clusters.set("k1", rec)
	w.clusters.locks["acme/app/staging"] = &kube.LockInfo{Holder: "<i>mallory</i>"}
	w.gh.deps["acme/app/staging"] = []Deployment{{ID: 1, Commit: `"><script>alert(1)</script>`, Description: "<svg onload=alert(1)>", LogURL: "javascript:alert(1)"}}
	w.refresh()
	page := w.get("/status/acme/app").body
	for _, bad := range []string{"<script>", "<img src=x", "<i>mallory", "<svg onload", `href="javascript:`} {
		if strings.Contains(page, bad) {
			t.Errorf("page carries %q unescaped", bad)
		}
	}
	if !strings.Contains(page, "&lt;img src=x onerror=alert(1)&gt;") {
		t.Errorf("the failure message is not shown escaped")
	}
}

// Without a status token configured, /status is closed to everyone.
func TestAllStatusClosedWithoutToken(t *testing.T) {
	w := statusWorld(t)
	h := RequireToken("", w.h.Admin())
	for _, q := range []string{"", "?token="} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/status"+q, nil))
		if rec.Code != 404 || strings.Contains(rec.Body.String(), "acme/") {
			t.Errorf("/status%s without a configured token: %d", q, rec.Code)
		}
	}
}
