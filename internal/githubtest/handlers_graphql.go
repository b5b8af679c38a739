package githubtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// GraphQL is one of the two honest exceptions to the contract check: it is
// not part of the REST description. The emulator answers the one mutation
// the bot uses, minimizeComment, with exactly the fields the query selects
// (githubv4 refuses fields it did not ask for); anything else is recorded
// as "not emulated".

var (
	minimizeCall  = regexp.MustCompile(`minimizeComment\s*\(\s*input\s*:\s*(\$\w+|\{[^}]*\})\s*\)`)
	inlineField   = regexp.MustCompile(`(subjectId|classifier)\s*:\s*("(?:[^"\\]|\\.)*"|\$\w+|[A-Z_]+)`)
	classifierSet = map[string]bool{"SPAM": true, "ABUSE": true, "OFF_TOPIC": true, "OUTDATED": true, "DUPLICATE": true, "RESOLVED": true, "LOW_QUALITY": true}
)

type gqlError struct {
	Message string `json:"message"`
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
	var req struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusOK, obj{"errors": []gqlError{{"Problems parsing JSON"}}})
		return
	}
	m := minimizeCall.FindStringSubmatch(req.Query)
	if m == nil {
		s.recordFailure(ContractFailure{Kind: "not emulated", Method: "POST", Path: "/graphql", Operation: "graphql", Err: "only minimizeComment is emulated; got: " + trimmed(req.Query, 200)})
		writeJSON(w, http.StatusOK, obj{"errors": []gqlError{{"githubtest: only the minimizeComment mutation is emulated"}}})
		return
	}
	input := map[string]any{}
	if strings.HasPrefix(m[1], "$") {
		input, _ = req.Variables[m[1][1:]].(map[string]any)
	} else {
		for _, f := range inlineField.FindAllStringSubmatch(m[1], -1) {
			v := f[2]
			switch {
			case strings.HasPrefix(v, "$"):
				input[f[1]] = req.Variables[v[1:]]
			case strings.HasPrefix(v, `"`):
				var str string
				json.Unmarshal([]byte(v), &str)
				input[f[1]] = str
			default:
				input[f[1]] = v
			}
		}
	}
	subject, _ := input["subjectId"].(string)
	classifier, _ := input["classifier"].(string)
	if !classifierSet[classifier] {
		writeJSON(w, http.StatusOK, obj{"errors": []gqlError{{fmt.Sprintf("Argument 'classifier' on InputObject 'MinimizeCommentInput' has an invalid value (%q)", classifier)}}})
		return
	}
	if err := s.minimize(p, subject, classifier); err != nil {
		writeJSON(w, http.StatusOK, obj{"data": obj{"minimizeComment": nil}, "errors": []gqlError{{err.Error()}}})
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
