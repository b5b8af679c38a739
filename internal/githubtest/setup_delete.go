package githubtest

// DeleteRepo deletes a repository, as its owner can on GitHub: the API
// answers 404 for it from then on. Pull requests opened from it into
// another repository (a deleted fork) stay open, their commits kept by the
// base repository, and show head.repo as null — the case a bot must not
// mistake for a pull request from the base repository itself.
func (s *Server) DeleteRepo(full string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.repos[full]
	if !ok {
		s.fatalf("DeleteRepo %s: no such repository", full)
		return
	}
	r.deleted = true
	delete(s.repos, full)
}

// headRepoJSON is a pull request's head.repo: null once the repository is
// deleted. Callers hold s.mu.
func (s *Server) headRepoJSON(r *repo) any {
	if r.deleted {
		return nil
	}
	return s.repoJSON(r)
}
