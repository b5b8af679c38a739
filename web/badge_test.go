package web

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/kube"
)

const sha = "abc1234def5678abc1234def5678abc1234def56"

type response struct {
	status int
	header http.Header
	body   string
}

func (w *world) get(path string, hdr ...string) response {
	req := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	mux := http.NewServeMux()
	mux.Handle("GET /badges/", w.h.Public())
	mux.Handle("GET /status/", w.h.Public())
	mux.Handle("GET /status", RequireToken("admin-secret-token", w.h.Admin()))
	mux.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return response{rec.Code, rec.Result().Header, string(b)}
}

type endpoint struct {
	SchemaVersion int    `json:"schemaVersion"`
	Label         string `json:"label"`
	Message       string `json:"message"`
	Color         string `json:"color"`
}

func (w *world) badgeJSON(t *testing.T, path string) (int, endpoint) {
	t.Helper()
	r := w.get(path)
	var e endpoint
	if err := json.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatalf("GET %s: %v: %q", path, err, r.body)
	}
	if r.header.Get("Content-Type") != "application/json" {
		t.Errorf("GET %s: Content-Type %q", path, r.header.Get("Content-Type"))
	}
	return r.status, e
}

// Each state has its words and colour, in both formats, from the record
// and the drift check that applies to it.
func TestBadgeStates(t *testing.T) {
	later := t0.Add(time.Minute)
	drift := func(r kube.ApplySetRecord, d kube.DriftStatus) kube.ApplySetRecord { r.Drift = d; return r }
	cases := []struct {
		name    string
		rec     kube.ApplySetRecord
		message string
		color   string
		hex     string
	}{
		{"converged", record("acme/app", "staging", kube.OutcomeConverged, sha, t0), "converged abc1234", "brightgreen", "#4c1"},
		{"applying", record("acme/app", "staging", kube.OutcomeInProgress, sha, t0), "applying abc1234", "blue", "#007ec6"},
		{"failed", record("acme/app", "staging", kube.OutcomeFailed, sha, t0), "failed abc1234", "red", "#e05d44"},
		{"drifted", drift(record("acme/app", "staging", kube.OutcomeConverged, sha, t0), kube.DriftStatus{State: kube.DriftDrifted, Objects: 3, Commit: sha, Time: later}), "drifted abc1234", "orange", "#fe7d37"},
		{"drift check failed", drift(record("acme/app", "staging", kube.OutcomeConverged, sha, t0), kube.DriftStatus{State: kube.DriftUnknown, Commit: sha, Time: later}), "unknown abc1234", "lightgrey", "#9f9f9f"},
		{"in sync", drift(record("acme/app", "staging", kube.OutcomeConverged, sha, t0), kube.DriftStatus{State: kube.DriftInSync, Commit: sha, Time: later}), "converged abc1234", "brightgreen", "#4c1"},
		// A drift check older than the record, or of another commit, is
		// about what ran before: the apply since is what counts.
		{"drift before the apply", drift(record("acme/app", "staging", kube.OutcomeConverged, sha, t0), kube.DriftStatus{State: kube.DriftDrifted, Objects: 1, Commit: sha, Time: t0.Add(-time.Minute)}), "converged abc1234", "brightgreen", "#4c1"},
		{"drift of another commit", drift(record("acme/app", "staging", kube.OutcomeConverged, sha, t0), kube.DriftStatus{State: kube.DriftDrifted, Objects: 1, Commit: "fff0000", Time: later}), "converged abc1234", "brightgreen", "#4c1"},
		{"no outcome", record("acme/app", "staging", "", "", t0), "unknown", "lightgrey", "#9f9f9f"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			w.gh.repos["acme/app"] = RepoInfo{}
			w.clusters.set("k1", c.rec)
			w.refresh()
			status, e := w.badgeJSON(t, "/badges/acme/app/staging.json")
			want := endpoint{1, "staging", c.message, c.color}
			if status != 200 || e != want {
				t.Errorf("json: %d %+v, want 200 %+v", status, e, want)
			}
			r := w.get("/badges/acme/app/staging.svg")
			if r.status != 200 || r.header.Get("Content-Type") != "image/svg+xml;charset=utf-8" {
				t.Fatalf("svg: %d %s", r.status, r.header.Get("Content-Type"))
			}
			texts := svgTexts(t, r.body)
			if strings.Join(texts, "|") != "staging|staging|"+c.message+"|"+c.message {
				t.Errorf("svg texts = %q", texts)
			}
			if !strings.Contains(r.body, `fill="`+c.hex+`"`) {
				t.Errorf("svg lacks colour %s:\n%s", c.hex, r.body)
			}
		})
	}
}

// svgTexts parses the SVG (it must be well-formed XML) and returns its
// text elements.
func svgTexts(t *testing.T, body string) []string {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(body))
	var texts []string
	in := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return texts
		}
		if err != nil {
			t.Fatalf("svg is not well-formed: %v\n%s", err, body)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			in = tok.Name.Local == "text"
			if in {
				texts = append(texts, "")
			}
		case xml.CharData:
			if in {
				texts[len(texts)-1] += string(tok)
			}
		case xml.EndElement:
			in = false
		}
	}
}

// The box widths follow the text: a longer message makes a wider badge,
// and each box holds its text plus 5 px each side.
func TestBadgeWidths(t *testing.T) {
	for _, c := range []struct {
		text     string
		min, max int
	}{
		// Verdana 11 px: "staging" is about 43 px, a 7-digit SHA 45 px.
		{"staging", 40, 46},
		{"converged abc1234", 100, 112},
		{"prod", 24, 30},
		{"iiii", 12, 14},
		{"WWWW", 42, 46},
	} {
		if got := textWidth(c.text); got < c.min || got > c.max {
			t.Errorf("textWidth(%q) = %d, want %d..%d", c.text, got, c.min, c.max)
		}
	}
	b := Badge{Label: "staging", Message: "converged abc1234", Color: "brightgreen"}.SVG()
	want := fmt.Sprintf(`width="%d"`, textWidth("staging")+textWidth("converged abc1234")+20)
	if !strings.Contains(string(b), want) {
		t.Errorf("svg lacks %s:\n%s", want, b)
	}
}

// A label from the URL is escaped in the SVG, never markup.
func TestBadgeEscapesLabel(t *testing.T) {
	w := newWorld(t)
	w.refresh()
	r := w.get("/badges/acme/app/" + "%3Cscript%3Ealert(1)%3C%2Fscript%3E.svg")
	if r.status != 404 || strings.Contains(r.body, "<script") {
		t.Fatalf("GET of a markup env: %d\n%s", r.status, r.body)
	}
	if texts := svgTexts(t, r.body); texts[0] != "<script>alert(1)</script>" {
		t.Errorf("label = %q", texts[0])
	}
}

// Unknown repositories and environments, and a private repository's badge
// without its token, with a wrong one, or with another environment's,
// get one and the same 404 badge: nothing says which it was.
func TestBadgeNotFoundRevealsNothing(t *testing.T) {
	w := newWorld(t)
	w.gh.repos["acme/secret"] = RepoInfo{Private: true}
	w.gh.repos["acme/open"] = RepoInfo{}
	w.clusters.set("k1",
		record("acme/secret", "prod", kube.OutcomeConverged, sha, t0),
		record("acme/secret", "staging", kube.OutcomeConverged, sha, t0),
		record("acme/open", "prod", kube.OutcomeConverged, sha, t0))
	w.refresh()

	for _, ext := range []string{"svg", "json"} {
		notFound := w.get("/badges/acme/nothing/prod." + ext)
		if notFound.status != 404 {
			t.Fatalf("unknown repository: %d", notFound.status)
		}
		for _, path := range []string{
			"/badges/acme/secret/prod." + ext,
			"/badges/acme/secret/prod." + ext + "?token=",
			"/badges/acme/secret/prod." + ext + "?token=00112233445566778899aabbccddeeff",
			"/badges/acme/secret/prod." + ext + "?token=" + BadgeToken(w.key, "acme/secret", "staging"),
			"/badges/acme/secret/prod." + ext + "?token=" + StatusToken(w.key, "acme/secret"),
			"/badges/acme/secret/prod." + ext + "?token=" + BadgeToken(BadgeKey([]byte("another key, another server")), "acme/secret", "prod"),
			"/badges/acme/open/nothing." + ext,
		} {
			r := w.get(path)
			wantBody := notFound.body
			if strings.Contains(path, "nothing.") {
				wantBody = w.get("/badges/acme/nothing/nothing." + ext).body
			}
			if r.status != 404 || r.body != wantBody || r.header.Get("ETag") == "" {
				t.Errorf("GET %s: %d %q, want the unknown repository's 404 %q", path, r.status, r.body, wantBody)
			}
		}
		for _, path := range []string{
			"/badges/acme/secret/prod." + ext + "?token=" + BadgeToken(w.key, "acme/secret", "prod"),
			"/badges/ACME/Secret/prod." + ext + "?token=" + BadgeToken(w.key, "Acme/SECRET", "prod"),
			"/badges/acme/open/prod." + ext,
		} {
			if r := w.get(path); r.status != 200 || !strings.Contains(r.body, "converged abc1234") {
				t.Errorf("GET %s: %d %s", path, r.status, r.body)
			}
		}
	}
	// A bad extension is a plain 404.
	if r := w.get("/badges/acme/open/prod.png"); r.status != 404 {
		t.Errorf("png: %d", r.status)
	}
}

// GitHub's image proxy revalidates: no-cache, an ETag, and 304 when the
// badge has not changed; a new state is a new ETag.
func TestBadgeCaching(t *testing.T) {
	w := newWorld(t)
	w.gh.repos["acme/app"] = RepoInfo{}
	w.clusters.set("k1", record("acme/app", "staging", kube.OutcomeInProgress, sha, t0))
	w.refresh()
	first := w.get("/badges/acme/app/staging.svg")
	etag := first.header.Get("ETag")
	if first.header.Get("Cache-Control") != "no-cache" || !strings.HasPrefix(etag, `"`) {
		t.Fatalf("headers: %v", first.header)
	}
	if r := w.get("/badges/acme/app/staging.svg", "If-None-Match", etag); r.status != 304 || r.body != "" {
		t.Errorf("revalidation: %d %q, want 304", r.status, r.body)
	}
	if r := w.get("/badges/acme/app/staging.svg", "If-None-Match", `"x", W/`+etag); r.status != 304 {
		t.Errorf("weak etag in a list: %d, want 304", r.status)
	}
	w.clusters.set("k1", record("acme/app", "staging", kube.OutcomeConverged, sha, t0.Add(time.Minute)))
	w.clock.add(time.Minute)
	w.refresh()
	r := w.get("/badges/acme/app/staging.svg", "If-None-Match", etag)
	if r.status != 200 || r.header.Get("ETag") == etag || !strings.Contains(r.body, "converged") {
		t.Errorf("after the apply converged: %d %s %q", r.status, r.header.Get("ETag"), r.body)
	}
}

// A flood of badge and page requests is answered from memory: not one
// call reaches a cluster or GitHub.
func TestBadgeFloodMakesNoBackendCalls(t *testing.T) {
	w := newWorld(t)
	w.gh.repos["acme/app"] = RepoInfo{}
	w.gh.repos["acme/secret"] = RepoInfo{Private: true}
	w.clusters.set("k1", record("acme/app", "staging", kube.OutcomeConverged, sha, t0), record("acme/secret", "prod", kube.OutcomeConverged, sha, t0))
	w.refresh()
	clusterCalls, ghCalls := w.clusters.calls.Load(), w.gh.calls.Load()
	if clusterCalls == 0 || ghCalls == 0 {
		t.Fatalf("the refresh made no calls (clusters %d, GitHub %d): the counts would prove nothing", clusterCalls, ghCalls)
	}
	paths := []string{"/badges/acme/app/staging.svg", "/badges/acme/app/staging.json", "/badges/acme/secret/prod.svg",
		"/badges/acme/nope/prod.svg", "/status/acme/app", "/status/acme/secret"}
	const n = 2000
	var wg sync.WaitGroup
	var bad sync.Map
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := paths[i%len(paths)]
			if r := w.get(p); r.status != 200 && r.status != 404 {
				bad.Store(p, r.status)
			}
		}()
	}
	wg.Wait()
	bad.Range(func(k, v any) bool { t.Errorf("GET %s: %v", k, v); return true })
	if c, g := w.clusters.calls.Load(), w.gh.calls.Load(); c != clusterCalls || g != ghCalls {
		t.Errorf("%d requests made %d cluster and %d GitHub calls, want none", n, c-clusterCalls, g-ghCalls)
	}
}

// Whatever a URL or a record holds, the badge is well-formed XML that
// shows it (control characters replaced), in boxes as wide as the text.
func FuzzBadgeSVG(f *testing.F) {
	for _, s := range []string{"staging", "<script>", "a&b", "\x01", "\xff\xfe", "ü-prod", `"'`, "]]>"} {
		f.Add(s, "converged abc1234")
	}
	f.Fuzz(func(t *testing.T, label, msg string) {
		body := string(Badge{Label: label, Message: msg, Color: "blue"}.SVG())
		texts := svgTexts(t, body)
		if len(texts) != 4 || texts[0] != texts[1] || texts[2] != texts[3] {
			t.Fatalf("texts = %q", texts)
		}
		clean := func(s string) string { return html.UnescapeString(xmlText(s)) }
		// encoding/xml turns \r and \r\n into \n, as XML parsers must.
		norm := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n") }
		if texts[0] != norm(clean(label)) || texts[2] != norm(clean(msg)) {
			t.Errorf("texts = %q, want %q and %q", texts, clean(label), clean(msg))
		}
	})
}
