package githubtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// GraphQL is one of the two honest exceptions to the contract check: it is
// not part of the REST description. The emulator answers the mutations
// the bot uses, minimizeComment and enqueuePullRequest, with exactly the
// fields the query selects (githubv4 refuses fields it did not ask for);
// anything else is recorded as "not emulated".

var (
	minimizeCall  = regexp.MustCompile(`minimizeComment\s*\(\s*input\s*:\s*(\$\w+|\{[^}]*\})\s*\)`)
	enqueueCall   = regexp.MustCompile(`enqueuePullRequest\s*\(\s*input\s*:\s*(\$\w+|\{[^}]*\})\s*\)`)
	inlineField   = regexp.MustCompile(`(subjectId|classifier|pullRequestId|expectedHeadOid|title|body)\s*:\s*("(?:[^"\\]|\\.)*"|\$\w+|[A-Z_]+)`)
	classifierSet = map[string]bool{"SPAM": true, "ABUSE": true, "OFF_TOPIC": true, "OUTDATED": true, "DUPLICATE": true, "RESOLVED": true, "LOW_QUALITY": true}
)

type gqlError struct {
	Type    string   `json:"type,omitempty"`
	Path    []string `json:"path,omitempty"`
	Message string   `json:"message"`
}

// gqlInput is a mutation's input: a variable ($input) or an inline object.
func gqlInput(arg string, vars map[string]any) map[string]any {
	input := map[string]any{}
	if strings.HasPrefix(arg, "$") {
		input, _ = vars[arg[1:]].(map[string]any)
		return input
	}
	for _, f := range inlineField.FindAllStringSubmatch(arg, -1) {
		v := f[2]
		switch {
		case strings.HasPrefix(v, "$"):
			input[f[1]] = vars[v[1:]]
		case strings.HasPrefix(v, `"`):
			var str string
			json.Unmarshal([]byte(v), &str)
			input[f[1]] = str
		default:
			input[f[1]] = v
		}
	}
	return input
}

func (s *Server) graphql(w http.ResponseWriter, r *http.Request) {
	kind, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if kind = strings.ToLower(kind); kind != "bearer" && kind != "token" {
		writeError(w, http.StatusUnauthorized, "This endpoint requires you to be authenticated.")
		return
	}
	p, err := s.lookupToken(cred)
	if err != nil {
		writeError(w, http.StatusUnauthorized, err.Error())
		return
	}
	if s.injectFault(w, r, "/graphql") { // Fault("POST", "/graphql", ...)
		return
	}
	var req struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusOK, obj{"errors": []gqlError{{Message: "Problems parsing JSON"}}})
		return
	}
	if m := enqueueCall.FindStringSubmatch(req.Query); m != nil {
		s.graphqlEnqueue(w, p, req.Query, m, gqlInput(m[1], req.Variables))
		return
	}
	if m := revertCall.FindStringSubmatch(req.Query); m != nil {
		s.graphqlRevert(w, p, req.Query, m, gqlInput(m[1], req.Variables))
		return
	}
	m := minimizeCall.FindStringSubmatch(req.Query)
	if m == nil {
		s.recordFailure(ContractFailure{Kind: "not emulated", Method: "POST", Path: "/graphql", Operation: "graphql", Err: "only minimizeComment and enqueuePullRequest are emulated; got: " + trimmed(req.Query, 200)})
		writeJSON(w, http.StatusOK, obj{"errors": []gqlError{{Message: "githubtest: only the minimizeComment and enqueuePullRequest mutations are emulated"}}})
		return
	}
	input := gqlInput(m[1], req.Variables)
	subject, _ := input["subjectId"].(string)
	classifier, _ := input["classifier"].(string)
	if !classifierSet[classifier] {
		writeJSON(w, http.StatusOK, obj{"errors": []gqlError{{Message: fmt.Sprintf("Argument 'classifier' on InputObject 'MinimizeCommentInput' has an invalid value (%q)", classifier)}}})
		return
	}
	if err := s.minimize(p, subject, classifier); err != nil {
		writeJSON(w, http.StatusOK, obj{"data": obj{"minimizeComment": nil}, "errors": []gqlError{{Message: err.Error()}}})
		return
	}
	comment := obj{}
	selected := req.Query[strings.Index(req.Query, m[0]):]
	for field, v := range map[string]any{"isMinimized": true, "minimizedReason": strings.ToLower(classifier), "viewerCanMinimize": true} {
		if strings.Contains(selected, field) {
			comment[field] = v
		}
	}
	result := obj{"minimizedComment": comment}
	if strings.Contains(selected, "clientMutationId") {
		result["clientMutationId"] = input["clientMutationId"]
	}
	writeJSON(w, http.StatusOK, obj{"data": obj{"minimizeComment": result}})
}

// minimize hides an issue comment with a classifier, if p may see it.
func (s *Server) minimize(p *principal, subject, classifier string) error {
	kind, id, ok := parseNodeID(subject)
	notFound := fmt.Errorf("Could not resolve to a node with the global id of '%s'", subject)
	if !ok || kind != "IC" {
		return notFound
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rp := range s.repos {
		for _, c := range rp.comments {
			if c.id == id && !c.deleted {
				if !s.canSee(p, rp) {
					return notFound
				}
				c.minimized = classifier
				return nil
			}
		}
	}
	return notFound
}

// graphqlEnqueue answers enqueuePullRequest: the pull request (by node id)
// joins its base branch's merge queue, guarded by expectedHeadOid. The
// installation needs contents: write, as merging does.
func (s *Server) graphqlEnqueue(w http.ResponseWriter, p *principal, query string, m []string, input map[string]any) {
	fail := func(typ, msg string) {
		writeJSON(w, http.StatusOK, obj{"data": obj{"enqueuePullRequest": nil},
			"errors": []gqlError{{Type: typ, Path: []string{"enqueuePullRequest"}, Message: msg}}})
	}
	id, _ := input["pullRequestId"].(string)
	expect, _ := input["expectedHeadOid"].(string)
	r, pr := s.pullByNodeID(p, id)
	if pr == nil {
		fail("NOT_FOUND", fmt.Sprintf("Could not resolve to a node with the global id of '%s'", id))
		return
	}
	if !s.permitted(p, "contents", "write") {
		fail("FORBIDDEN", errNoPermission)
		return
	}
	s.mu.Lock()
	actor := s.bot.Login
	if p.user != nil {
		actor = p.user.Login
	}
	full, number := r.fullName(), pr.number
	s.mu.Unlock()
	if err := s.enqueue(full, number, actor, expect); err != nil {
		fail("UNPROCESSABLE", err.Error())
		return
	}
	// Position and state as GitHub reports them; a pull request nothing
	// held back was merged at once and is reported mergeable.
	pos, state := 1, "MERGEABLE"
	s.mu.Lock()
	for i, e := range r.queues[pr.baseRef] {
		if e.pr == pr {
			pos, state = i+1, "AWAITING_CHECKS"
		}
	}
	s.mu.Unlock()
	entry := obj{}
	selected := query[strings.Index(query, m[0]):]
	for field, v := range map[string]any{"id": nodeID("MQE", pr.id), "position": pos, "state": state} {
		if regexp.MustCompile(`\b` + field + `\b`).MatchString(selected) {
			entry[field] = v
		}
	}
	result := obj{"mergeQueueEntry": entry}
	if strings.Contains(selected, "clientMutationId") {
		result["clientMutationId"] = input["clientMutationId"]
	}
	writeJSON(w, http.StatusOK, obj{"data": obj{"enqueuePullRequest": result}})
}

// pullByNodeID finds the pull request with a node id, if p may see it.
func (s *Server) pullByNodeID(p *principal, id string) (*repo, *pullRequest) {
	kind, n, ok := parseNodeID(id)
	if !ok || kind != "PR" {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.repos {
		for _, pr := range r.pulls {
			if pr.id == n && s.canSee(p, r) {
				return r, pr
			}
		}
	}
	return nil, nil
}
