package githubtest

import (
	"fmt"
	"net/http"
)

// downloadPrefix is where tarball downloads are served. Like GitHub's
// codeload URLs it is outside the REST API (and its description) and
// carries its own short-lived token instead of needing credentials.
const downloadPrefix = "/_download/"

type download struct {
	repo *repo
	sha  string
}

// getTarball answers 302 to a download URL, as GitHub does.
func (s *Server) getTarball(w http.ResponseWriter, r *http.Request) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	sha := refOf(rp, param(r, "ref"))
	if sha == "" {
		notFound(w)
		return
	}
	tok := randomHex(16)
	s.mu.Lock()
	s.downloads[tok] = download{repo: rp, sha: sha}
	s.mu.Unlock()
	w.Header().Set("Location", s.http.URL+downloadPrefix+tok)
	w.WriteHeader(http.StatusFound)
}

// download serves a gzipped tar whose single top-level directory is
// {owner}-{repo}-{short sha}/, like GitHub's tarballs.
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	d, ok := s.downloads[r.PathValue("token")]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	prefix := fmt.Sprintf("%s-%s-%s", d.repo.owner.Login, d.repo.name, d.sha[:7])
	data, err := d.repo.git().archive(d.sha, prefix)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-gzip")
	w.Header().Set("Content-Disposition", "attachment; filename="+prefix+".tar.gz")
	w.Write(data)
}
