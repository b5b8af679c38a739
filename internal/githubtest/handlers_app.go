package githubtest

import (
	"net/http"
	"sort"
	"time"
)

func (s *Server) getApp(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.appJSON()
	o["installations_count"] = len(s.installations)
	writeJSON(w, http.StatusOK, o)
}

func (s *Server) listInstallations(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]int64, 0, len(s.installations))
	for id := range s.installations {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	list := make([]obj, 0, len(ids))
	for _, id := range ids {
		inst := s.installationJSON(s.installations[id])
		// Here GitHub's description declares the account as allOf (user,
		// enterprise) where it means anyOf; carry the enterprise's required
		// fields too so a real account validates.
		acct := inst["account"].(obj)
		acct["name"], acct["slug"] = acct["login"], acct["login"]
		acct["created_at"], acct["updated_at"] = inst["created_at"], inst["created_at"]
		list = append(list, inst)
	}
	writeJSON(w, http.StatusOK, paginate(w, r, list))
}

func (s *Server) getInstallation(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inst, ok := s.installations[paramInt(r, "installation_id")]
	if !ok {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, s.installationJSON(inst))
}

// createInstallationToken hands out an installation token valid for an hour.
func (s *Server) createInstallationToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inst, ok := s.installations[paramInt(r, "installation_id")]
	if !ok {
		notFound(w)
		return
	}
	t := &token{value: "ghs_" + randomHex(18), installation: inst, expires: time.Now().Add(tokenTTL)}
	s.tokens[t.value] = t
	selection := "all"
	if len(inst.Repos) > 0 {
		selection = "selected"
	}
	writeJSON(w, http.StatusCreated, obj{
		"token": t.value, "expires_at": ts(t.expires),
		"permissions": permissionsOf(inst), "repository_selection": selection,
	})
}

func (s *Server) getRepoInstallation(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, ok := s.repos[param(r, "owner")+"/"+param(r, "repo")]
	if !ok {
		notFound(w)
		return
	}
	inst := s.installationFor(rp)
	if inst == nil {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, s.installationJSON(inst))
}

func (s *Server) listInstallationRepos(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if p.installation == nil {
		writeError(w, http.StatusForbidden, "This endpoint requires an installation token")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for name, rp := range s.repos {
		if s.installationFor(rp) == p.installation {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	list := make([]obj, 0, len(names))
	for _, n := range names {
		list = append(list, s.repoJSON(s.repos[n]))
	}
	page := paginate(w, r, list)
	writeJSON(w, http.StatusOK, obj{"total_count": len(list), "repository_selection": "selected", "repositories": page})
}
