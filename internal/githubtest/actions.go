package githubtest

import (
	"fmt"
	"time"
)

// The methods below are what people do on GitHub: comment, review, press a
// check run's button. Each changes state and emits the webhook GitHub would.

// Comment posts a comment on issue or pull request n as login and returns its id.
func (s *Server) Comment(repo string, n int, login, body string) int64 {
	rp, err := s.repo(repo)
	if err != nil {
		s.fatalf("Comment: %v", err)
		return 0
	}
	s.mu.Lock()
	u := s.userLocked(login, "User")
	s.mu.Unlock()
	c, err := s.addComment(rp, n, u, body)
	if err != nil {
		s.fatalf("Comment %s#%d: %v", repo, n, err)
		return 0
	}
	return c.id
}

// EditComment changes comment id's body as login (issue_comment edited).
func (s *Server) EditComment(repo string, id int64, login, body string) {
	rp, c, u, err := s.findComment(repo, id, login)
	if err != nil {
		s.fatalf("EditComment: %v", err)
		return
	}
	s.editComment(rp, c, u, body)
}

func (s *Server) findComment(full string, id int64, login string) (*repo, *comment, *User, error) {
	rp, err := s.repo(full)
	if err != nil {
		return nil, nil, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range rp.comments {
		if c.id == id && !c.deleted {
			return rp, c, s.userLocked(login, "User"), nil
		}
	}
	return nil, nil, nil, fmt.Errorf("no comment %d in %s", id, full)
}

// Review submits a review of pull request n as login. state is APPROVED,
// CHANGES_REQUESTED or COMMENTED. It returns the review id.
func (s *Server) Review(repo string, n int, login, state, body string) int64 {
	switch state {
	case "APPROVED", "CHANGES_REQUESTED", "COMMENTED":
	default:
		s.fatalf("Review: unknown state %q", state)
		return 0
	}
	rp, pr, u, err := s.pullAndUser(repo, n, login)
	if err != nil {
		s.fatalf("Review: %v", err)
		return 0
	}
	return s.addReview(rp, pr, u, state, body, "").id
}

// Approve approves pull request n as login.
func (s *Server) Approve(repo string, n int, login string) int64 {
	return s.Review(repo, n, login, "APPROVED", "")
}

// DismissReview dismisses review id of pull request n as login.
func (s *Server) DismissReview(repo string, n int, id int64, login string) {
	rp, pr, u, err := s.pullAndUser(repo, n, login)
	if err != nil {
		s.fatalf("DismissReview: %v", err)
		return
	}
	s.mu.Lock()
	var rv *review
	for _, x := range pr.reviews {
		if x.id == id {
			rv = x
		}
	}
	s.mu.Unlock()
	if rv == nil {
		s.fatalf("DismissReview: no review %d", id)
		return
	}
	if err := s.dismiss(rp, pr, rv, u); err != nil {
		s.fatalf("DismissReview: %v", err)
	}
}

// RequestAction presses a check run's action button as login
// (check_run requested_action). The run must be completed and have the action.
func (s *Server) RequestAction(repo string, checkRunID int64, identifier, login string) {
	if err := s.requestAction(repo, checkRunID, identifier, login); err != nil {
		s.fatalf("RequestAction: %v", err)
	}
}

func (s *Server) requestAction(full string, id int64, identifier, login string) error {
	rp, c, u, err := s.findCheckRun(full, id, login)
	if err != nil {
		return err
	}
	s.mu.Lock()
	found := false
	for _, a := range c.actions {
		if a["identifier"] == identifier {
			found = true
		}
	}
	completed := c.status == "completed"
	s.mu.Unlock()
	if !found {
		return fmt.Errorf("check run %d has no action %q", id, identifier)
	}
	if !completed {
		return fmt.Errorf("check run %d is not completed: GitHub shows action buttons only on completed runs", id)
	}
	s.emitCheckRun(rp, c, "requested_action", u, identifier)
	return nil
}

// RerequestCheckRun presses "Re-run" on a check run (check_run rerequested).
func (s *Server) RerequestCheckRun(repo string, checkRunID int64, login string) {
	rp, c, u, err := s.findCheckRun(repo, checkRunID, login)
	if err != nil {
		s.fatalf("RerequestCheckRun: %v", err)
		return
	}
	s.emitCheckRun(rp, c, "rerequested", u, "")
}

// RerequestCheckSuite presses "Re-run all checks" for sha (check_suite rerequested).
func (s *Server) RerequestCheckSuite(repo, sha, login string) {
	rp, err := s.repo(repo)
	if err != nil {
		s.fatalf("RerequestCheckSuite: %v", err)
		return
	}
	s.mu.Lock()
	u := s.userLocked(login, "User")
	s.mu.Unlock()
	s.emitCheckSuite(rp, sha, "rerequested", u)
}

func (s *Server) findCheckRun(full string, id int64, login string) (*repo, *checkRun, *User, error) {
	rp, err := s.repo(full)
	if err != nil {
		return nil, nil, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range rp.checkRuns {
		if c.id == id {
			return rp, c, s.userLocked(login, "User"), nil
		}
	}
	return nil, nil, nil, fmt.Errorf("no check run %d in %s", id, full)
}

// SetStatus records a commit status from another CI system (as login), e.g.
// to satisfy or fail a required context.
func (s *Server) SetStatus(repo, sha, context, state, login string) {
	rp, err := s.repo(repo)
	if err != nil {
		s.fatalf("SetStatus: %v", err)
		return
	}
	defer s.advanceQueuesOf(rp, sha) // after the unlock below
	s.mu.Lock()
	defer s.mu.Unlock()
	rp.statuses = append(rp.statuses, &status{id: s.id(), sha: sha, state: state, context: context,
		creator: s.userLocked(login, "User"), createdAt: time.Now().UTC()})
}

// AddCheckRun records a check run on sha made by another GitHub App (a CI
// system; appSlug names it, and it gets an id of its own): completed with
// conclusion, or in_progress when conclusion is "". A later run of the
// same name supersedes it, as on GitHub. It returns the run's id.
func (s *Server) AddCheckRun(repo, sha, name, conclusion, appSlug string) int64 {
	rp, err := s.repo(repo)
	if err != nil {
		s.fatalf("AddCheckRun: %v", err)
		return 0
	}
	defer s.advanceQueuesOf(rp, sha) // after the unlock below
	s.mu.Lock()
	defer s.mu.Unlock()
	app := s.otherApps[appSlug]
	if app == nil {
		if s.otherApps == nil {
			s.otherApps = map[string]*App{}
		}
		app = &App{ID: s.id(), Slug: appSlug, Name: appSlug}
		s.otherApps[appSlug] = app
	}
	now := time.Now().UTC()
	c := &checkRun{id: s.id(), suiteID: s.suiteID(rp, sha), name: name, headSHA: sha, status: "in_progress", startedAt: now, app: app}
	if conclusion != "" {
		c.status, c.conclusion, c.completedAt = "completed", conclusion, &now
	}
	rp.checkRuns = append(rp.checkRuns, c)
	return c.id
}
