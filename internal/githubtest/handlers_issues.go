package githubtest

import (
	"errors"
	"net/http"
	"sort"
	"strings"
	"time"
)

var errNoIssue = errors.New("no such issue or pull request")

func (s *Server) listIssues(w http.ResponseWriter, r *http.Request) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	var want []string
	if l := q.Get("labels"); l != "" {
		want = strings.Split(l, ",")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// GitHub's issues list includes pull requests; newest first.
	nums := make([]int, 0, len(rp.issues)+len(rp.pulls))
	for n := range rp.issues {
		nums = append(nums, n)
	}
	for n := range rp.pulls {
		nums = append(nums, n)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(nums)))
	var out []obj
	for _, n := range nums {
		is, pr := rp.issues[n], rp.pulls[n]
		st := ""
		var labels []string
		if is != nil {
			st, labels = is.state, is.labels
		} else {
			st = pr.state
		}
		if state != "all" && st != state || !hasAll(labels, want) {
			continue
		}
		out = append(out, s.issueJSON(rp, is, pr))
	}
	writeJSON(w, http.StatusOK, paginate(w, r, orEmpty(out)))
}

func hasAll(have, want []string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			if strings.EqualFold(h, strings.TrimSpace(w)) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

type issueInput struct {
	Title  *string  `json:"title"`
	Body   *string  `json:"body"`
	State  *string  `json:"state"`
	Labels []string `json:"labels"`
}

func (s *Server) createIssue(w http.ResponseWriter, r *http.Request) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	var in issueInput
	if !decodeBody(w, r, &in) {
		return
	}
	if in.Title == nil || *in.Title == "" {
		validationFailed(w, fieldError{Resource: "Issue", Field: "title", Code: "missing_field"})
		return
	}
	body := ""
	if in.Body != nil {
		body = *in.Body
	}
	if e := tooLong("Issue", "body", body, maxCommentBody); e != nil {
		validationFailed(w, *e)
		return
	}
	s.mu.Lock()
	now := time.Now().UTC()
	rp.nextNumber++
	is := &issue{
		number: rp.nextNumber, id: s.id(), title: *in.Title, body: body, author: s.actor(r),
		state: "open", labels: in.Labels, createdAt: now, updatedAt: now,
	}
	rp.issues[is.number] = is
	s.mu.Unlock()
	s.emitIssue(rp, is, "opened", is.author, nil)
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusCreated, s.issueJSON(rp, is, nil))
}

func (s *Server) getIssue(w http.ResponseWriter, r *http.Request) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	n := int(paramInt(r, "issue_number"))
	s.mu.Lock()
	defer s.mu.Unlock()
	if !issueExists(rp, n) {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, s.issueJSON(rp, rp.issues[n], rp.pulls[n]))
}

// updateIssue edits an issue: title, body, labels, state (open/closed).
// Pull requests can be closed and reopened through it too.
func (s *Server) updateIssue(w http.ResponseWriter, r *http.Request) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	var in issueInput
	if !decodeBody(w, r, &in) {
		return
	}
	if in.Body != nil {
		if e := tooLong("Issue", "body", *in.Body, maxCommentBody); e != nil {
			validationFailed(w, *e)
			return
		}
	}
	n := int(paramInt(r, "issue_number"))
	s.mu.Lock()
	is, pr := rp.issues[n], rp.pulls[n]
	actor := s.actor(r)
	if is == nil && pr == nil {
		s.mu.Unlock()
		notFound(w)
		return
	}
	if pr != nil {
		if in.Title != nil {
			pr.title = *in.Title
		}
		if in.Body != nil {
			pr.body = *in.Body
		}
		wantState := pr.state
		if in.State != nil {
			wantState = *in.State
		}
		prState := pr.state
		s.mu.Unlock()
		if wantState != prState {
			if err := s.setPRState(rp.fullName(), n, actor.Login, wantState); err != nil {
				validationFailed(w, fieldError{Resource: "Issue", Field: "state", Code: "invalid", Message: err.Error()})
				return
			}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		writeJSON(w, http.StatusOK, s.issueJSON(rp, nil, pr))
		return
	}
	now := time.Now().UTC()
	edited, stateAction := false, ""
	// GitHub's "edited" event says what changed (changes.title.from,
	// changes.body.from); an edit that changes neither sends none.
	changes := obj{}
	if in.Title != nil && *in.Title != is.title {
		changes["title"] = obj{"from": is.title}
		is.title, edited = *in.Title, true
	}
	if in.Body != nil && *in.Body != is.body {
		changes["body"] = obj{"from": is.body}
		is.body, edited = *in.Body, true
	}
	if in.Labels != nil {
		is.labels = in.Labels
	}
	if in.State != nil && *in.State != is.state {
		is.state = *in.State
		if is.state == "closed" {
			is.closedAt, stateAction = &now, "closed"
		} else {
			is.closedAt, stateAction = nil, "reopened"
		}
	}
	is.updatedAt = now
	s.mu.Unlock()
	// Like GitHub, an edit that also closes or reopens sends both events.
	if edited {
		s.emitIssue(rp, is, "edited", actor, changes)
	}
	if stateAction != "" {
		s.emitIssue(rp, is, stateAction, actor, nil)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, s.issueJSON(rp, is, nil))
}
