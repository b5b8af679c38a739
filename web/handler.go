package web

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
)

// Options configure the pages.
type Options struct {
	// Refresher holds the snapshot every page is served from.
	Refresher *Refresher
	// BadgeKey signs private repositories' badge and status tokens
	// (BadgeKey of the server's digest key).
	BadgeKey []byte
	// PublicURL is where people reach the bot (for the badge snippets the
	// status page shows). Empty: the page shows relative URLs.
	PublicURL string
	// WebURL is GitHub's web address (links to commits, pull requests,
	// issues), "https://github.com" when empty.
	WebURL string
}

// Handler serves badges and status pages. Public routes (badges and one
// repository's page, each token-gated for private repositories) go on the
// public listener; the page of every repository is an admin route.
type Handler struct {
	o Options
}

// New returns the pages' handler.
func New(o Options) *Handler {
	if o.WebURL == "" {
		o.WebURL = "https://github.com"
	}
	o.WebURL = strings.TrimRight(o.WebURL, "/")
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	return &Handler{o: o}
}

// Route patterns (net/http ServeMux syntax).
const (
	BadgeRoute      = "GET /badges/{owner}/{repo}/{file}"
	RepoStatusRoute = "GET /status/{owner}/{repo}"
	AllStatusRoute  = "GET /status"
)

// Public serves BadgeRoute and RepoStatusRoute.
func (h *Handler) Public() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(BadgeRoute, h.badge)
	mux.HandleFunc(RepoStatusRoute, h.repoStatus)
	return mux
}

// Admin serves AllStatusRoute: every repository's environments, with
// links to their pages that carry their tokens. Mount it where only
// operators reach it (the admin listener, or behind RequireToken).
func (h *Handler) Admin() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(AllStatusRoute, h.allStatus)
	return mux
}

// RequireToken lets through requests that carry token as ?token= or as
// "Authorization: Bearer"; others get a plain 404, as if nothing were
// there. An empty token lets nothing through.
func RequireToken(token string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := r.URL.Query().Get("token")
		if b, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			got = b
		}
		if token == "" || !tokenOK(got, strings.ToLower(token)) {
			http.NotFound(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// badge answers /badges/{owner}/{repo}/{env}.svg|.json from the snapshot.
// An unknown repository or environment, and a private repository's badge
// without its token, get the same 404 badge: nothing tells them apart.
func (h *Handler) badge(w http.ResponseWriter, r *http.Request) {
	env, ext, ok := cutExt(r.PathValue("file"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	repo := r.PathValue("owner") + "/" + r.PathValue("repo")
	rs, e := h.o.Refresher.Snapshot().lookup(repo, env)
	if rs != nil && rs.Private && !tokenOK(r.URL.Query().Get("token"), BadgeToken(h.o.BadgeKey, rs.Name, env)) {
		e = nil
	}
	b := badgeOf(env, e)
	var body []byte
	var ctype string
	if ext == "json" {
		body, _ = json.Marshal(struct {
			SchemaVersion int    `json:"schemaVersion"`
			Label         string `json:"label"`
			Message       string `json:"message"`
			Color         string `json:"color"`
		}{1, b.Label, b.Message, b.Color})
		ctype = "application/json"
	} else {
		body, ctype = b.SVG(), "image/svg+xml;charset=utf-8"
	}
	status := http.StatusOK
	if e == nil {
		status = http.StatusNotFound
	}
	serve(w, r, status, ctype, body)
}

// cutExt splits "staging.svg" into its environment and format.
func cutExt(file string) (env, ext string, ok bool) {
	i := strings.LastIndexByte(file, '.')
	if i <= 0 {
		return "", "", false
	}
	env, ext = file[:i], file[i+1:]
	return env, ext, ext == "svg" || ext == "json"
}

// serve writes a page that may change at any refresh: GitHub's image
// proxy (camo) and browsers must ask again every time (no-cache), and an
// ETag lets them do it cheaply (304).
func serve(w http.ResponseWriter, r *http.Request, status int, ctype string, body []byte) {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	hdr := w.Header()
	hdr.Set("Content-Type", ctype)
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Content-Type-Options", "nosniff")
	// Nothing here runs script or loads from elsewhere; an SVG opened
	// directly must not either.
	hdr.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src *")
	hdr.Set("ETag", etag)
	if status == http.StatusOK && etagMatch(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// etagMatch reports whether an If-None-Match header names etag (weak
// comparison, as RFC 9110 asks for If-None-Match).
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}
