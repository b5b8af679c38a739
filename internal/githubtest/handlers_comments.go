package githubtest

import (
	"net/http"
	"time"
)

// issueExists: number is an issue or a pull request of rp. Callers hold s.mu.
func issueExists(rp *repo, n int) bool {
	_, isPR := rp.pulls[n]
	_, isIssue := rp.issues[n]
	return isPR || isIssue
}

func (s *Server) listComments(w http.ResponseWriter, r *http.Request) {
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
	var out []obj
	for _, c := range rp.comments {
		if c.issue == n && !c.deleted {
			out = append(out, s.commentJSON(rp, c))
		}
	}
	writeJSON(w, http.StatusOK, paginate(w, r, orEmpty(out)))
}

func (s *Server) createComment(w http.ResponseWriter, r *http.Request) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	var in struct{ Body string }
	if !decodeBody(w, r, &in) {
		return
	}
	if e := tooLong("IssueComment", "body", in.Body, maxCommentBody); e != nil {
		validationFailed(w, *e)
		return
	}
	s.mu.Lock()
	author := s.actor(r)
	s.mu.Unlock()
	c, err := s.addComment(rp, int(paramInt(r, "issue_number")), author, in.Body)
	if err != nil {
		notFound(w)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusCreated, s.commentJSON(rp, c))
}

// addComment records a comment and announces it (issue_comment created).
func (s *Server) addComment(rp *repo, n int, author *User, body string) (*comment, error) {
	s.mu.Lock()
	if !issueExists(rp, n) {
		s.mu.Unlock()
		return nil, errNoIssue
	}
	now := time.Now().UTC()
	c := &comment{id: s.id(), issue: n, body: body, author: author, createdAt: now, updatedAt: now}
	rp.comments = append(rp.comments, c)
	s.mu.Unlock()
	s.emitIssueComment(rp, c, "created", author, nil)
	return c, nil
}

// commentFor returns the comment a request names, or answers 404. Callers must not hold s.mu.
func (s *Server) commentFor(w http.ResponseWriter, r *http.Request) (*repo, *comment) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return nil, nil
	}
	id := paramInt(r, "comment_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range rp.comments {
		if c.id == id && !c.deleted {
			return rp, c
		}
	}
	notFound(w)
	return nil, nil
}

func (s *Server) getComment(w http.ResponseWriter, r *http.Request) {
	rp, c := s.commentFor(w, r)
	if c == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, s.commentJSON(rp, c))
}

func (s *Server) updateComment(w http.ResponseWriter, r *http.Request) {
	rp, c := s.commentFor(w, r)
	if c == nil {
		return
	}
	var in struct{ Body string }
	if !decodeBody(w, r, &in) {
		return
	}
	if e := tooLong("IssueComment", "body", in.Body, maxCommentBody); e != nil {
		validationFailed(w, *e)
		return
	}
	s.mu.Lock()
	editor := s.actor(r)
	s.mu.Unlock()
	s.editComment(rp, c, editor, in.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, s.commentJSON(rp, c))
}

// editComment changes a comment's body and announces it (issue_comment edited).
func (s *Server) editComment(rp *repo, c *comment, editor *User, body string) {
	s.mu.Lock()
	old := c.body
	c.body = body
	c.updatedAt = time.Now().UTC()
	s.mu.Unlock()
	s.emitIssueComment(rp, c, "edited", editor, obj{"body": obj{"from": old}})
}

func (s *Server) deleteComment(w http.ResponseWriter, r *http.Request) {
	rp, c := s.commentFor(w, r)
	if c == nil {
		return
	}
	s.mu.Lock()
	c.deleted = true
	editor := s.actor(r)
	s.mu.Unlock()
	s.emitIssueComment(rp, c, "deleted", editor, nil)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listReactions(w http.ResponseWriter, r *http.Request) {
	_, c := s.commentFor(w, r)
	if c == nil {
		return
	}
	content := r.URL.Query().Get("content")
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []obj
	for _, rc := range c.reactions {
		if content == "" || rc.content == content {
			out = append(out, s.reactionJSON(rc))
		}
	}
	writeJSON(w, http.StatusOK, paginate(w, r, orEmpty(out)))
}

// createReaction adds a reaction; the same person reacting the same way
// again gets the existing one back with 200, as on GitHub.
func (s *Server) createReaction(w http.ResponseWriter, r *http.Request) {
	_, c := s.commentFor(w, r)
	if c == nil {
		return
	}
	var in struct{ Content string }
	if !decodeBody(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.actor(r)
	for _, rc := range c.reactions {
		if rc.user == u && rc.content == in.Content {
			writeJSON(w, http.StatusOK, s.reactionJSON(rc))
			return
		}
	}
	rc := &reaction{id: s.id(), content: in.Content, user: u, createdAt: time.Now().UTC()}
	c.reactions = append(c.reactions, rc)
	writeJSON(w, http.StatusCreated, s.reactionJSON(rc))
}
