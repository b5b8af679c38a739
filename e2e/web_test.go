package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/internal/githubtest"
)

// statusToken opens the bot's /status in these tests.
const statusToken = "e2e-status-token-0123456789"

type httpAnswer struct {
	status int
	header http.Header
	body   string
}

func httpGet(t *testing.T, url string, hdr ...string) httpAnswer {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return httpAnswer{resp.StatusCode, resp.Header, string(b)}
}

// applyStaging opens a PR on w.repo changing staging's ConfigMap, has it
// approved and applied, and returns the commit the record names.
func (w *world) applyStaging(t *testing.T, cm string) string {
	t.Helper()
	n, sha := w.openPR("release", map[string]string{"deploy/staging/app.yaml": cm})
	w.waitPlanned(sha, "staging")
	w.gh.Approve(w.repo, n, "carol")
	w.gh.Comment(w.repo, n, "alice", "/apply staging")
	w.waitStatus(sha, "tugboat/apply/staging", "success", 2*time.Minute)
	commit := w.record(staging, "staging")["tugboat.dev/last-apply-commit"]
	if commit == "" {
		t.Fatalf("no commit recorded for staging")
	}
	return commit
}

// After an apply, the real bot's badge says converged at the recorded
// commit (SVG and shields.io JSON, revalidated by ETag), and the status
// page shows the environment; a private repository's badge and page need
// the token `bot badge-url` prints, and look unknown without it.
func TestBadgesAndStatusPage(t *testing.T) {
	w := newWorld(t, options{extraConfig: "web:\n  refresh: 1s\n  status_token: " + statusToken + "\n"})
	w.gh.SetPermission(w.repo, "carol", "write")
	commit := w.applyStaging(t, configMap("app", "color", "green"))
	short := commit[:7]

	badge := w.bot.url + "/badges/" + w.repo + "/staging"
	var got struct {
		SchemaVersion         int
		Label, Message, Color string
	}
	w.waitFor("the badge to say converged", 30*time.Second, func() bool {
		r := httpGet(t, badge+".json")
		return r.status == 200 && json.Unmarshal([]byte(r.body), &got) == nil && got.Message == "converged "+short
	})
	if got.SchemaVersion != 1 || got.Label != "staging" || got.Color != "brightgreen" {
		t.Errorf("badge JSON = %+v", got)
	}
	svg := httpGet(t, badge+".svg")
	if svg.status != 200 || svg.header.Get("Content-Type") != "image/svg+xml;charset=utf-8" || svg.header.Get("Cache-Control") != "no-cache" ||
		!strings.Contains(svg.body, ">converged "+short+"</text>") || !strings.Contains(svg.body, `fill="#4c1"`) {
		t.Errorf("badge SVG: %d %v\n%s", svg.status, svg.header, svg.body)
	}
	if r := httpGet(t, badge+".svg", "If-None-Match", svg.header.Get("ETag")); r.status != http.StatusNotModified {
		t.Errorf("revalidating the badge: %d, want 304", r.status)
	}
	// prod was never applied: it has no badge.
	if r := httpGet(t, w.bot.url+"/badges/"+w.repo+"/prod.svg"); r.status != 404 || !strings.Contains(r.body, ">not found</text>") {
		t.Errorf("prod's badge: %d %s", r.status, r.body)
	}

	page := httpGet(t, w.bot.url+"/status/"+w.repo)
	if page.status != 200 {
		t.Fatalf("status page: %d", page.status)
	}
	for _, want := range []string{
		`<section class="env" id="env-staging">`,
		`<span class="state converged">converged</span>`,
		`<dt>Cluster</dt><dd>staging</dd>`,
		`href="` + w.gh.URL() + "/" + w.repo + "/commit/" + commit + `"><code>` + short + `</code>`,
		`<a class="pr" href="` + w.gh.URL() + "/" + w.repo + `/pull/1">#1</a>`,
		"/apply by alice on #1",              // the GitHub Deployment says who
		w.repo + "#1 (applied by alice)</a>", // the lock
		"<td>converged</td>",                 // the deploy history
	} {
		if !strings.Contains(page.body, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("status page:\n%s", page.body)
	}

	// A private repository of the same owner, applied the same way.
	priv := *w
	priv.repo = w.repo + "-private"
	w.gh.CreateRepo(priv.repo, githubtest.RepoOptions{Private: true, Files: baseFiles(w.ns)})
	w.gh.SetPermission(priv.repo, "alice", "write")
	w.gh.SetPermission(priv.repo, "carol", "write")
	pcommit := priv.applyStaging(t, configMap("app-private", "color", "red"))

	out, err := exec.Command(botBin, "badge-url", "--config", w.bot.config, priv.repo, "staging").Output()
	if err != nil {
		t.Fatalf("bot badge-url: %v", err)
	}
	tokened := strings.TrimSpace(string(out))
	if !strings.HasPrefix(tokened, w.bot.url+"/badges/"+priv.repo+"/staging.svg?token=") {
		t.Fatalf("bot badge-url printed %q", tokened)
	}
	w.waitFor("the private badge with its token", 30*time.Second, func() bool {
		r := httpGet(t, tokened)
		return r.status == 200 && strings.Contains(r.body, ">converged "+pcommit[:7]+"</text>")
	})
	unknown := httpGet(t, w.bot.url+"/badges/acme/no-such-repo/staging.svg")
	for _, u := range []string{
		w.bot.url + "/badges/" + priv.repo + "/staging.svg",
		w.bot.url + "/badges/" + priv.repo + "/staging.svg?token=0123456789abcdef0123456789abcdef",
		strings.Replace(tokened, "/staging.svg", "/prod.svg", 1),
	} {
		r := httpGet(t, u)
		wantBody := unknown.body
		if strings.Contains(u, "/prod.svg") {
			wantBody = httpGet(t, w.bot.url+"/badges/acme/no-such-repo/prod.svg").body
		}
		if r.status != 404 || r.body != wantBody {
			t.Errorf("GET %s: %d, want the unknown repository's 404:\n%s", u, r.status, r.body)
		}
	}
	if r := httpGet(t, w.bot.url+"/status/"+priv.repo); r.status != 404 || strings.Contains(r.body, "app-private") || strings.Contains(r.body, pcommit[:7]) {
		t.Errorf("private status page without a token: %d", r.status)
	}

	// /status lists both, with the admin token only; its link to the
	// private page carries that page's token, which opens it.
	if r := httpGet(t, w.bot.url+"/status"); r.status != 404 {
		t.Errorf("/status without the token: %d", r.status)
	}
	all := httpGet(t, w.bot.url+"/status", "Authorization", "Bearer "+statusToken)
	if all.status != 200 || !strings.Contains(all.body, ">"+w.repo+"</a>") || !strings.Contains(all.body, ">"+priv.repo+"</a>") {
		t.Fatalf("/status with the token: %d\n%s", all.status, all.body)
	}
	i := strings.Index(all.body, `href="`+w.bot.url+"/status/"+priv.repo+"?token=")
	if i < 0 {
		t.Fatalf("/status has no tokened link to the private page")
	}
	link := all.body[i+len(`href="`):]
	link = link[:strings.IndexByte(link, '"')]
	if r := httpGet(t, link); r.status != 200 || !strings.Contains(r.body, pcommit[:7]) {
		t.Errorf("the private page by its link: %d", r.status)
	}
}
