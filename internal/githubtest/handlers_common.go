package githubtest

import (
	"net/http"
)

// repoFor returns the repository a request names, if the caller may see
// it: an installation token sees the repositories of its installation, a
// user token public ones and those the user has a permission on. Anything
// else is a 404, as on GitHub. It answers the request itself when it
// returns nil. Callers must not hold s.mu.
func (s *Server) repoFor(w http.ResponseWriter, r *http.Request) *repo {
	full := param(r, "owner") + "/" + param(r, "repo")
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, ok := s.repos[full]
	if !ok || !s.canSee(principalOf(r), rp) {
		notFound(w)
		return nil
	}
	return rp
}

// canSee: callers hold s.mu.
func (s *Server) canSee(p *principal, rp *repo) bool {
	switch {
	case p == nil:
		return false
	case p.installation != nil:
		return s.installationFor(rp) == p.installation
	case p.user != nil:
		perm := rp.permissions[p.user.Login]
		return !rp.private || rp.owner.Login == p.user.Login || (perm != "" && perm != "none")
	}
	return false
}

// actor is who a write acts as. Callers hold s.mu.
func (s *Server) actor(r *http.Request) *User {
	if p := principalOf(r); p != nil && p.user != nil {
		return p.user
	}
	return s.bot
}
