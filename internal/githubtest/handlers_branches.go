package githubtest

import (
	"net/http"
	"net/url"
)

// getBranch answers GET /repos/{owner}/{repo}/branches/{branch} with the
// branch's head commit and its protection's required status checks. As on
// GitHub, an unprotected branch reports protection enabled: false with
// enforcement_level "off" and no contexts.
func (s *Server) getBranch(w http.ResponseWriter, r *http.Request) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	branch := param(r, "branch")
	sha := rp.git().branchHead(branch)
	if sha == "" {
		writeError(w, http.StatusNotFound, "Branch not found")
		return
	}
	commit, err := s.commitJSON(rp, sha)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	full := rp.fullName()
	api := s.api("/repos/%s/branches/%s", full, url.PathEscape(branch))
	s.mu.Lock()
	defer s.mu.Unlock()
	p := rp.protection[branch]
	checks := obj{"enforcement_level": "off", "contexts": []string{}, "checks": []obj{}}
	protection := obj{"enabled": p != nil, "required_status_checks": checks}
	if p != nil {
		list := []obj{}
		for _, c := range p.RequiredContexts {
			list = append(list, obj{"context": c, "app_id": nil})
		}
		checks["enforcement_level"] = "non_admins"
		checks["contexts"] = append([]string{}, p.RequiredContexts...)
		checks["checks"] = list
	}
	writeJSON(w, http.StatusOK, obj{
		"name": branch, "commit": commit, "protected": p != nil, "protection": protection,
		"protection_url": api + "/protection",
		"_links":         obj{"self": api, "html": s.api("/%s/tree/%s", full, branch)},
	})
}

// getBranchRules answers GET /repos/{owner}/{repo}/rules/branches/{branch}:
// the rules of every ruleset targeting the branch (required_status_checks
// and merge_queue are the ones the emulator models). A branch no ruleset
// targets has none, whether or not it exists, as on GitHub.
func (s *Server) getBranchRules(w http.ResponseWriter, r *http.Request) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	branch := param(r, "branch")
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []obj{}
	for _, rs := range rulesetsFor(rp, branch) {
		info := func(o obj) obj {
			o["ruleset_source_type"] = "Repository"
			o["ruleset_source"] = rp.fullName()
			o["ruleset_id"] = rs.id
			return o
		}
		if len(rs.RequiredChecks) > 0 {
			list := []obj{}
			for _, c := range rs.RequiredChecks {
				list = append(list, obj{"context": c})
			}
			out = append(out, info(obj{"type": "required_status_checks", "parameters": obj{
				"required_status_checks": list, "strict_required_status_checks_policy": false,
			}}))
		}
		if mq := rs.MergeQueue; mq != nil {
			out = append(out, info(obj{"type": "merge_queue", "parameters": obj{
				"check_response_timeout_minutes": 60, "grouping_strategy": "ALLGREEN",
				"max_entries_to_build": 5, "max_entries_to_merge": 5, "merge_method": mq.Method,
				"min_entries_to_merge": 1, "min_entries_to_merge_wait_minutes": 5,
			}}))
		}
	}
	writeJSON(w, http.StatusOK, paginate(w, r, out))
}

// getGitCommit answers GET /repos/{owner}/{repo}/git/commits/{commit_sha}:
// the commit object itself (tree, parents, message), without files.
func (s *Server) getGitCommit(w http.ResponseWriter, r *http.Request) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	sha := param(r, "commit_sha")
	if rp.git().resolve(sha) != sha {
		notFound(w)
		return
	}
	info, err := rp.git().commitInfo(sha)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	full := rp.fullName()
	parents := []obj{}
	for _, p := range info.parents {
		parents = append(parents, obj{"sha": p, "url": s.api("/repos/%s/git/commits/%s", full, p), "html_url": s.api("/%s/commit/%s", full, p)})
	}
	person := func(sg signature) obj { return obj{"name": sg.Name, "email": sg.Email, "date": ts(sg.When)} }
	writeJSON(w, http.StatusOK, obj{
		"sha": sha, "node_id": nodeID("C", int64(len(sha))),
		"url": s.api("/repos/%s/git/commits/%s", full, sha), "html_url": s.api("/%s/commit/%s", full, sha),
		"author": person(info.author), "committer": person(info.committer), "message": info.message,
		"tree":         obj{"sha": info.tree, "url": s.api("/repos/%s/git/trees/%s", full, info.tree)},
		"parents":      parents,
		"verification": obj{"verified": false, "reason": "unsigned", "signature": nil, "payload": nil, "verified_at": nil},
	})
}
