package githubtest

import (
	"net/http"
	"time"
)

func (s *Server) listReviews(w http.ResponseWriter, r *http.Request) {
	rp, pr := s.pullFor(w, r)
	if pr == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]obj, 0, len(pr.reviews))
	for _, rv := range pr.reviews {
		out = append(out, s.reviewJSON(rp, pr, rv))
	}
	writeJSON(w, http.StatusOK, paginate(w, r, out))
}

func (s *Server) createReview(w http.ResponseWriter, r *http.Request) {
	rp, pr := s.pullFor(w, r)
	if pr == nil {
		return
	}
	var in struct {
		Body     string `json:"body"`
		Event    string `json:"event"`
		CommitID string `json:"commit_id"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	state := map[string]string{"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}[in.Event]
	if state == "" {
		// GitHub keeps a review without an event as PENDING; the emulator
		// does not model drafts of reviews.
		validationFailed(w, fieldError{Resource: "PullRequestReview", Field: "event", Code: "missing_field"})
		return
	}
	s.mu.Lock()
	author := s.actor(r)
	s.mu.Unlock()
	if author == pr.author && state != "COMMENTED" {
		validationFailed(w, fieldError{Resource: "PullRequestReview", Field: "event", Code: "custom",
			Message: "Can not approve your own pull request"})
		return
	}
	rv := s.addReview(rp, pr, author, state, in.Body, in.CommitID)
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, s.reviewJSON(rp, pr, rv))
}

// addReview records a review and announces it (pull_request_review submitted).
func (s *Server) addReview(rp *repo, pr *pullRequest, author *User, state, body, commit string) *review {
	s.mu.Lock()
	if commit == "" {
		commit = pr.headSHA
	}
	rv := &review{id: s.id(), author: author, state: state, body: body, commitID: commit, submittedAt: time.Now().UTC()}
	pr.reviews = append(pr.reviews, rv)
	s.mu.Unlock()
	s.emitReview(rp, pr, rv, "submitted", author)
	return rv
}

func (s *Server) dismissReview(w http.ResponseWriter, r *http.Request) {
	rp, pr := s.pullFor(w, r)
	if pr == nil {
		return
	}
	var in struct{ Message string }
	if !decodeBody(w, r, &in) {
		return
	}
	id := paramInt(r, "review_id")
	s.mu.Lock()
	var rv *review
	for _, x := range pr.reviews {
		if x.id == id {
			rv = x
		}
	}
	actor := s.actor(r)
	s.mu.Unlock()
	if rv == nil {
		notFound(w)
		return
	}
	if err := s.dismiss(rp, pr, rv, actor); err != nil {
		// This operation's 422 is GitHub's simple shape: errors are strings.
		writeJSON(w, http.StatusUnprocessableEntity, obj{"message": "Validation Failed", "errors": []string{err.Error()}, "documentation_url": docsURL})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, s.reviewJSON(rp, pr, rv))
}

// dismiss dismisses an approval or change request (pull_request_review dismissed).
func (s *Server) dismiss(rp *repo, pr *pullRequest, rv *review, actor *User) error {
	s.mu.Lock()
	if rv.state != "APPROVED" && rv.state != "CHANGES_REQUESTED" {
		s.mu.Unlock()
		return errCannotDismiss
	}
	rv.state = "DISMISSED"
	s.mu.Unlock()
	s.emitReview(rp, pr, rv, "dismissed", actor)
	return nil
}
