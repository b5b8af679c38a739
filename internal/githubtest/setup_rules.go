package githubtest

import (
	"path"
	"strings"
)

// AddRuleset adds a repository ruleset (active, no bypass) and returns its
// id. Open pull requests are re-evaluated against it.
func (s *Server) AddRuleset(repo string, rs Ruleset) int64 {
	if rs.MergeQueue != nil {
		switch rs.MergeQueue.Method {
		case "":
			rs.MergeQueue = &MergeQueue{Method: "MERGE"}
		case "MERGE", "SQUASH", "REBASE":
			mq := *rs.MergeQueue
			rs.MergeQueue = &mq
		default:
			s.fatalf("AddRuleset: unknown merge queue method %q", rs.MergeQueue.Method)
			return 0
		}
	}
	s.mu.Lock()
	r, ok := s.repos[repo]
	var id int64
	if ok {
		id = s.id()
		rs.Branches = append([]string(nil), rs.Branches...)
		rs.RequiredChecks = append([]string(nil), rs.RequiredChecks...)
		r.rulesets = append(r.rulesets, &ruleset{id: id, Ruleset: rs})
	}
	s.mu.Unlock()
	if !ok {
		s.fatalf("AddRuleset: no repository %s", repo)
		return 0
	}
	s.refreshPulls(repo)
	s.AdvanceMergeQueue(repo)
	return id
}

// RequireMergeQueue adds a ruleset that makes pull requests into branch
// merge through the merge queue (method MERGE). It returns the ruleset id.
func (s *Server) RequireMergeQueue(repo, branch string) int64 {
	return s.AddRuleset(repo, Ruleset{Name: "merge queue for " + branch, Branches: []string{branch}, MergeQueue: &MergeQueue{}})
}

// rulesetsFor lists the rulesets that target branch, oldest first. Callers hold s.mu.
func rulesetsFor(r *repo, branch string) []*ruleset {
	var out []*ruleset
	for _, rs := range r.rulesets {
		if rs.targets(r, branch) {
			out = append(out, rs)
		}
	}
	return out
}

func (rs *ruleset) targets(r *repo, branch string) bool {
	for _, p := range rs.Branches {
		switch p {
		case "~ALL":
			return true
		case "~DEFAULT_BRANCH":
			if branch == r.defaultBranch {
				return true
			}
			continue
		}
		if ok, _ := path.Match(strings.TrimPrefix(p, "refs/heads/"), branch); ok {
			return true
		}
	}
	return false
}

// requiredContexts is every context that must succeed before a pull
// request merges into branch: branch protection's and the rulesets',
// each once, in that order. Callers hold s.mu.
func requiredContexts(r *repo, branch string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(ctxs []string) {
		for _, c := range ctxs {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	if p := r.protection[branch]; p != nil {
		add(p.RequiredContexts)
	}
	for _, rs := range rulesetsFor(r, branch) {
		add(rs.RequiredChecks)
	}
	return out
}

// mergeQueueFor returns the merge queue rule on branch, or nil. Callers hold s.mu.
func mergeQueueFor(r *repo, branch string) *MergeQueue {
	for _, rs := range rulesetsFor(r, branch) {
		if rs.MergeQueue != nil {
			return rs.MergeQueue
		}
	}
	return nil
}
