package githubtest

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// revertPullRequest is what GitHub's "Revert" button does: a new branch
// revert-<N>-<head> with a commit that undoes the merged pull request on
// top of the base branch, and a pull request of it. The emulator makes the
// commit the way `git revert` does — a three-way merge whose base is the
// merge commit and whose "theirs" is the merge's first parent — and refuses
// as GitHub does when that does not apply cleanly or changes nothing.

var revertCall = regexp.MustCompile(`revertPullRequest\s*\(\s*input\s*:\s*(\$\w+|\{[^}]*\})\s*\)`)

// errCannotRevert is GitHub's message when a revert does not apply.
const errCannotRevert = "Sorry, this pull request couldn’t be reverted automatically. It may have already been reverted, or the content may have changed since it was merged."

// selection is a parsed GraphQL selection set: field name → sub-selection.
type selection map[string]selection

// parseSelection reads the selection set that starts at the first "{" of q.
func parseSelection(q string) selection {
	i := strings.Index(q, "{")
	if i < 0 {
		return nil
	}
	sel, _ := parseSet(q, i+1)
	return sel
}

func parseSet(q string, i int) (selection, int) {
	out := selection{}
	last := ""
	for i < len(q) {
		c := q[i]
		switch {
		case c == '}':
			return out, i + 1
		case c == '{':
			sub, j := parseSet(q, i+1)
			if last != "" {
				out[last] = sub
			}
			i = j
			continue
		case c == '(':
			// Arguments: skip to the matching parenthesis.
			depth := 0
			for ; i < len(q); i++ {
				if q[i] == '(' {
					depth++
				} else if q[i] == ')' {
					depth--
					if depth == 0 {
						break
					}
				}
			}
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(q) && (q[j] == '_' || q[j] >= 'a' && q[j] <= 'z' || q[j] >= 'A' && q[j] <= 'Z' || q[j] >= '0' && q[j] <= '9') {
				j++
			}
			last = q[i:j]
			if last != "on" {
				out[last] = nil
			}
			i = j
			continue
		}
		i++
	}
	return out, i
}

// pick keeps the fields sel asks for.
func pick(sel selection, fields obj) obj {
	out := obj{}
	for k := range sel {
		if v, ok := fields[k]; ok {
			out[k] = v
		}
	}
	return out
}

func (s *Server) graphqlRevert(w http.ResponseWriter, p *principal, query string, m []string, input map[string]any) {
	fail := func(typ, msg string) {
		writeJSON(w, 200, obj{"data": obj{"revertPullRequest": nil},
			"errors": []gqlError{{Type: typ, Path: []string{"revertPullRequest"}, Message: msg}}})
	}
	id, _ := input["pullRequestId"].(string)
	r, pr := s.pullByNodeID(p, id)
	if pr == nil {
		fail("NOT_FOUND", fmt.Sprintf("Could not resolve to a node with the global id of '%s'", id))
		return
	}
	if !s.permitted(p, "contents", "write") || !s.permitted(p, "pull_requests", "write") {
		fail("FORBIDDEN", errNoPermission)
		return
	}
	s.mu.Lock()
	actor := s.bot
	if p.user != nil {
		actor = p.user
	}
	s.mu.Unlock()
	title, _ := input["title"].(string)
	body, _ := input["body"].(string)
	draft, _ := input["draft"].(bool)
	n, err := s.revert(r, pr, actor, title, body, draft)
	if err != nil {
		fail("UNPROCESSABLE", err.Error())
		return
	}
	sel := parseSelection(query[strings.Index(query, m[0])+len(m[0]):])
	s.mu.Lock()
	rv := r.pulls[n]
	prFields := func(x *pullRequest) obj {
		return obj{"id": nodeID("PR", x.id), "number": x.number, "title": x.title,
			"url": s.api("/%s/pull/%d", r.fullName(), x.number), "headRefName": x.headRef, "baseRefName": x.baseRef}
	}
	result := obj{}
	if sub, ok := sel["pullRequest"]; ok {
		result["pullRequest"] = pick(sub, prFields(pr))
	}
	if sub, ok := sel["revertPullRequest"]; ok {
		result["revertPullRequest"] = pick(sub, prFields(rv))
	}
	s.mu.Unlock()
	if _, ok := sel["clientMutationId"]; ok {
		result["clientMutationId"] = input["clientMutationId"]
	}
	writeJSON(w, 200, obj{"data": obj{"revertPullRequest": result}})
}

// revert makes the revert branch and opens its pull request.
func (s *Server) revert(r *repo, pr *pullRequest, actor *User, title, body string, draft bool) (int, error) {
	s.mu.Lock()
	merged, merge, number, prTitle, headRef, baseRef := pr.merged, pr.mergeCommitSHA, pr.number, pr.title, pr.headRef, pr.baseRef
	s.mu.Unlock()
	if !merged {
		return 0, errors.New("Pull request is not merged")
	}
	s.gitMu.Lock()
	g := r.git()
	base := g.branchHead(baseRef)
	info, err := g.commitInfo(merge)
	if err != nil || len(info.parents) == 0 {
		s.gitMu.Unlock()
		return 0, fmt.Errorf("read merge commit %s: %v", merge, err)
	}
	before, err := g.treeOf(info.parents[0])
	if err != nil {
		s.gitMu.Unlock()
		return 0, err
	}
	who := signature{Name: actor.Login, Email: actor.Login + "@users.noreply.github.com", When: time.Now().UTC()}
	// A commit with the tree before the merge, on top of the merge: merging
	// it into the base (merge base: the merge commit) applies the inverse of
	// the merge, which is what `git revert -m 1` does.
	inverse, err := g.commitTree(before, []string{merge}, "inverse", who)
	if err != nil {
		s.gitMu.Unlock()
		return 0, err
	}
	tree, conflict, err := g.testMerge(base, inverse)
	if err == nil && !conflict {
		if cur, _ := g.treeOf(base); cur == tree {
			err = errors.New(errCannotRevert) // nothing left to revert
		}
	}
	if err != nil || conflict {
		s.gitMu.Unlock()
		if err == nil {
			err = errors.New(errCannotRevert)
		}
		return 0, err
	}
	msg := fmt.Sprintf("Revert \"%s\"\n\nThis reverts commit %s.", prTitle, merge)
	sha, err := g.commitTree(tree, []string{base}, msg, who)
	if err != nil {
		s.gitMu.Unlock()
		return 0, err
	}
	branch := fmt.Sprintf("revert-%d-%s", number, headRef)
	for i := 2; g.branchHead(branch) != ""; i++ {
		branch = fmt.Sprintf("revert-%d-%s-%d", number, headRef, i)
	}
	if err := g.updateRef("refs/heads/"+branch, sha, ""); err != nil {
		s.gitMu.Unlock()
		return 0, err
	}
	s.gitMu.Unlock()
	s.emitPush(r, branch, "", sha, actor)
	if title == "" {
		title = fmt.Sprintf("Revert \"%s\"", prTitle)
	}
	if body == "" {
		body = fmt.Sprintf("Reverts %s#%d", r.fullName(), number)
	}
	return s.openPR(r.fullName(), PROptions{Head: branch, Base: baseRef, Title: title, Body: body, Draft: draft, Author: actor.Login})
}
