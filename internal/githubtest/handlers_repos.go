package githubtest

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"path"
	"strings"
)

func (s *Server) getRepo(w http.ResponseWriter, r *http.Request) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.repoJSON(rp)
	o["network_count"] = 0
	o["subscribers_count"] = 0
	o["has_discussions"] = false
	writeJSON(w, http.StatusOK, o)
}

// permissionOf maps a role to the coarse permission GitHub's endpoint
// reports beside role_name. Callers hold s.mu.
func (s *Server) permissionOf(rp *repo, login string) (permission, role string) {
	role = rp.permissions[login]
	if login == rp.owner.Login {
		role = "admin"
	}
	switch role {
	case "admin":
		return "admin", role
	case "maintain", "write":
		return "write", role
	case "triage", "read":
		return "read", role
	case "":
		if !rp.private {
			return "read", "read"
		}
	}
	return "none", "none"
}

func (s *Server) getPermission(w http.ResponseWriter, r *http.Request) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	login := param(r, "username")
	u, ok := s.users[login]
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("%s is not a user", login))
		return
	}
	perm, role := s.permissionOf(rp, login)
	user := s.userJSON(u)
	user["role_name"] = role
	writeJSON(w, http.StatusOK, obj{"permission": perm, "role_name": role, "user": user})
}

func (s *Server) getTeamMembership(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	org, team, login := param(r, "org"), param(r, "team_slug"), param(r, "username")
	role, ok := s.teams[org+"/"+team][login]
	if !ok {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, obj{
		"url":  s.api("/organizations/%d/team/%s/memberships/%s", s.users[org].ID, team, login),
		"role": role, "state": "active",
	})
}

// refOf resolves the ref query parameter (default: the default branch).
func refOf(rp *repo, ref string) string {
	if ref == "" {
		ref = rp.defaultBranch
	}
	g := rp.git()
	for _, cand := range []string{"refs/heads/" + ref, "refs/tags/" + ref, ref} {
		if sha := g.resolve(cand); sha != "" {
			return sha
		}
	}
	return ""
}

func (s *Server) getContents(w http.ResponseWriter, r *http.Request) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	sha := refOf(rp, r.URL.Query().Get("ref"))
	p := strings.Trim(param(r, "path"), "/")
	if sha == "" {
		writeError(w, http.StatusNotFound, "No commit found for the ref "+r.URL.Query().Get("ref"))
		return
	}
	g := rp.git()
	switch g.objectType(sha, p) {
	case "blob":
		entries, err := g.ls(sha, path.Dir(p))
		if path.Dir(p) == "." {
			entries, err = g.ls(sha, "")
		}
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		for _, e := range entries {
			if e.path != p {
				continue
			}
			data, err := g.readBlob(e.sha)
			if err != nil {
				writeError(w, http.StatusInternalServerError, err.Error())
				return
			}
			o := s.contentEntry(rp, sha, e)
			o["content"] = base64.StdEncoding.EncodeToString(data)
			o["encoding"] = "base64"
			writeJSON(w, http.StatusOK, o)
			return
		}
		notFound(w)
	case "tree":
		entries, err := g.ls(sha, p)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		list := make([]obj, 0, len(entries))
		for _, e := range entries {
			list = append(list, s.contentEntry(rp, sha, e))
		}
		writeJSON(w, http.StatusOK, list)
	default:
		notFound(w)
	}
}

// contentEntry describes a file or directory for the contents endpoint.
func (s *Server) contentEntry(rp *repo, sha string, e treeEntry) obj {
	full := rp.fullName()
	typ := "file"
	var download any = s.api("/%s/raw/%s/%s", full, sha, e.path)
	gitURL := s.api("/repos/%s/git/blobs/%s", full, e.sha)
	if e.kind == "tree" {
		typ, download = "dir", nil
		gitURL = s.api("/repos/%s/git/trees/%s", full, e.sha)
	}
	self := s.api("/repos/%s/contents/%s?ref=%s", full, e.path, sha)
	html := s.api("/%s/blob/%s/%s", full, sha, e.path)
	return obj{
		"type": typ, "size": e.size, "name": path.Base(e.path), "path": e.path, "sha": e.sha,
		"url": self, "git_url": gitURL, "html_url": html, "download_url": download,
		"_links": obj{"self": self, "git": gitURL, "html": html},
	}
}

func (s *Server) getCommit(w http.ResponseWriter, r *http.Request) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	sha := refOf(rp, param(r, "ref"))
	if sha == "" {
		writeError(w, http.StatusUnprocessableEntity, "No commit found for SHA: "+param(r, "ref"))
		return
	}
	o, err := s.commitJSON(rp, sha)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, o)
}

// commitJSON is a commit with its files and stats, as GET .../commits/{ref}
// and a branch's commit show it.
func (s *Server) commitJSON(rp *repo, sha string) (obj, error) {
	g := rp.git()
	info, err := g.commitInfo(sha)
	if err != nil {
		return nil, err
	}
	full := rp.fullName()
	parents := []obj{}
	for _, p := range info.parents {
		parents = append(parents, obj{"sha": p, "url": s.api("/repos/%s/commits/%s", full, p), "html_url": s.api("/%s/commit/%s", full, p)})
	}
	files := []obj{}
	add, del := 0, 0
	if len(info.parents) > 0 {
		changes, err := g.diff(info.parents[0], sha)
		if err != nil {
			return nil, err
		}
		for _, c := range changes {
			files = append(files, s.fileJSON(rp, sha, c))
			add += c.additions
			del += c.deletion
		}
	}
	person := func(sg signature) obj { return obj{"name": sg.Name, "email": sg.Email, "date": ts(sg.When)} }
	return obj{
		"url": s.api("/repos/%s/commits/%s", full, sha), "sha": sha, "node_id": nodeID("C", int64(len(sha))),
		"html_url": s.api("/%s/commit/%s", full, sha), "comments_url": s.api("/repos/%s/commits/%s/comments", full, sha),
		"commit": obj{
			"url": s.api("/repos/%s/git/commits/%s", full, sha), "author": person(info.author), "committer": person(info.committer),
			"message": info.message, "comment_count": 0,
			"tree": obj{"sha": info.tree, "url": s.api("/repos/%s/git/trees/%s", full, info.tree)},
		},
		"author": nil, "committer": nil, "parents": parents, "files": files,
		"stats": obj{"additions": add, "deletions": del, "total": add + del},
	}, nil
}

// fileJSON is one entry of a pull request's or commit's file list.
func (s *Server) fileJSON(rp *repo, sha string, c fileChange) obj {
	full := rp.fullName()
	o := obj{
		"sha": c.blob, "filename": c.filename, "status": c.status,
		"additions": c.additions, "deletions": c.deletion, "changes": c.additions + c.deletion,
		"blob_url":     s.api("/%s/blob/%s/%s", full, sha, c.filename),
		"raw_url":      s.api("/%s/raw/%s/%s", full, sha, c.filename),
		"contents_url": s.api("/repos/%s/contents/%s?ref=%s", full, c.filename, sha),
	}
	if c.patch != "" {
		o["patch"] = c.patch
	}
	return o
}
