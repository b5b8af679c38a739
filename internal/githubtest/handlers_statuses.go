package githubtest

import (
	"net/http"
	"time"
)

func (s *Server) createStatus(w http.ResponseWriter, r *http.Request) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	var in struct {
		State       string `json:"state"`
		TargetURL   string `json:"target_url"`
		Description string `json:"description"`
		Context     string `json:"context"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	if e := tooLong("Status", "description", in.Description, maxStatusDescription); e != nil {
		validationFailed(w, *e)
		return
	}
	sha := param(r, "sha")
	if rp.git().resolve(sha) == "" {
		validationFailed(w, fieldError{Resource: "Status", Field: "sha", Code: "invalid", Message: "No commit found for SHA: " + sha})
		return
	}
	sha = rp.git().resolve(sha)
	if in.Context == "" {
		in.Context = "default"
	}
	defer s.advanceQueuesOf(rp, sha) // a merge group's check may have reported; after the unlock below
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &status{
		id: s.id(), sha: sha, state: in.State, targetURL: in.TargetURL, description: in.Description,
		context: in.Context, creator: s.actor(r), createdAt: time.Now().UTC(),
	}
	rp.statuses = append(rp.statuses, st)
	writeJSON(w, http.StatusCreated, s.statusJSON(rp, st))
}

// statusesFor lists the statuses of ref, newest first. Callers hold s.mu.
func (s *Server) statusesFor(rp *repo, sha string) []*status {
	var out []*status
	for i := len(rp.statuses) - 1; i >= 0; i-- {
		if rp.statuses[i].sha == sha {
			out = append(out, rp.statuses[i])
		}
	}
	return out
}

func (s *Server) listStatuses(w http.ResponseWriter, r *http.Request) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	sha := refOf(rp, param(r, "ref"))
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []obj{}
	for _, st := range s.statusesFor(rp, sha) {
		out = append(out, s.statusJSON(rp, st))
	}
	writeJSON(w, http.StatusOK, paginate(w, r, out))
}

// combinedStatus: the latest status per context, and an overall state that
// is failure if any is error or failure, pending if any is pending or there
// are none, else success.
func (s *Server) combinedStatus(w http.ResponseWriter, r *http.Request) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	sha := refOf(rp, param(r, "ref"))
	if sha == "" {
		notFound(w)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	latest := []obj{}
	state := "success"
	for _, st := range s.statusesFor(rp, sha) {
		if seen[st.context] {
			continue
		}
		seen[st.context] = true
		o := s.statusJSON(rp, st)
		delete(o, "creator")
		latest = append(latest, o)
		switch {
		case st.state == "error" || st.state == "failure":
			state = "failure"
		case st.state == "pending" && state != "failure":
			state = "pending"
		}
	}
	if len(latest) == 0 {
		state = "pending"
	}
	full := rp.fullName()
	repoObj := s.repoJSON(rp)
	writeJSON(w, http.StatusOK, obj{
		"state": state, "sha": sha, "total_count": len(latest), "statuses": paginate(w, r, latest),
		"repository": repoObj, "commit_url": s.api("/repos/%s/commits/%s", full, sha),
		"url": s.api("/repos/%s/commits/%s/status", full, sha),
	})
}
