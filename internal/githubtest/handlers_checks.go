package githubtest

import (
	"fmt"
	"net/http"
	"time"
)

// checkRunInput is the body of create and update.
type checkRunInput struct {
	Name        *string    `json:"name"`
	HeadSHA     string     `json:"head_sha"`
	DetailsURL  *string    `json:"details_url"`
	ExternalID  *string    `json:"external_id"`
	Status      *string    `json:"status"`
	StartedAt   *time.Time `json:"started_at"`
	Conclusion  *string    `json:"conclusion"`
	CompletedAt *time.Time `json:"completed_at"`
	Output      *struct {
		Title       *string          `json:"title"`
		Summary     *string          `json:"summary"`
		Text        *string          `json:"text"`
		Annotations []map[string]any `json:"annotations"`
	} `json:"output"`
	Actions []map[string]any `json:"actions"`
}

// checkLimits returns GitHub's 422 entries for input over its limits.
func (in *checkRunInput) checkLimits() []fieldError {
	var errs []fieldError
	add := func(e *fieldError) {
		if e != nil {
			errs = append(errs, *e)
		}
	}
	if o := in.Output; o != nil {
		if o.Summary != nil {
			add(tooLong("CheckRun", "summary", *o.Summary, maxCheckRunOutput))
		}
		if o.Text != nil {
			add(tooLong("CheckRun", "text", *o.Text, maxCheckRunOutput))
		}
		if len(o.Annotations) > maxAnnotations {
			errs = append(errs, fieldError{Resource: "CheckRun", Field: "annotations", Code: "custom",
				Message: "Only 50 annotations may be created or updated per request"})
		}
	}
	if len(in.Actions) > maxActions {
		errs = append(errs, fieldError{Resource: "CheckRun", Field: "actions", Code: "custom",
			Message: "Only 3 actions may be added per check run"})
	}
	for _, a := range in.Actions {
		str := func(k string) string { v, _ := a[k].(string); return v }
		add(tooLong("CheckRun", "label", str("label"), maxActionLabel))
		add(tooLong("CheckRun", "identifier", str("identifier"), maxActionIdentifier))
		add(tooLong("CheckRun", "description", str("description"), maxActionDescription))
	}
	if in.Status != nil && *in.Status == "completed" && in.Conclusion == nil {
		errs = append(errs, fieldError{Resource: "CheckRun", Field: "conclusion", Code: "missing_field",
			Message: "conclusion is required when status is completed"})
	}
	return errs
}

// apply copies the input onto c: annotations append, actions replace.
func (in *checkRunInput) apply(c *checkRun, now time.Time) {
	if in.Name != nil {
		c.name = *in.Name
	}
	if in.DetailsURL != nil {
		c.detailsURL = *in.DetailsURL
	}
	if in.ExternalID != nil {
		c.externalID = *in.ExternalID
	}
	if in.StartedAt != nil {
		c.startedAt = in.StartedAt.UTC()
	}
	if in.Status != nil {
		c.status = *in.Status
	}
	if in.Conclusion != nil {
		c.conclusion = *in.Conclusion
		c.status = "completed" // GitHub: a conclusion completes the run
	}
	if c.status == "completed" && c.completedAt == nil {
		t := now
		if in.CompletedAt != nil {
			t = in.CompletedAt.UTC()
		}
		c.completedAt = &t
	}
	if o := in.Output; o != nil {
		if o.Title != nil {
			c.title = *o.Title
		}
		if o.Summary != nil {
			c.summary = *o.Summary
		}
		if o.Text != nil {
			c.text = *o.Text
		}
		c.annotations = append(c.annotations, o.Annotations...)
	}
	if in.Actions != nil {
		c.actions = in.Actions
	}
}

func (s *Server) createCheckRun(w http.ResponseWriter, r *http.Request) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	var in checkRunInput
	if !decodeBody(w, r, &in) {
		return
	}
	if errs := in.checkLimits(); len(errs) > 0 {
		validationFailed(w, errs...)
		return
	}
	if in.Name == nil || *in.Name == "" {
		validationFailed(w, fieldError{Resource: "CheckRun", Field: "name", Code: "missing_field"})
		return
	}
	if rp.git().resolve(in.HeadSHA) != in.HeadSHA {
		validationFailed(w, fieldError{Resource: "CheckRun", Field: "head_sha", Code: "invalid", Message: "No commit found for SHA: " + in.HeadSHA})
		return
	}
	now := time.Now().UTC()
	defer s.advanceQueuesOf(rp, in.HeadSHA) // a merge group's check may have reported; after the unlock below
	s.mu.Lock()
	c := &checkRun{id: s.id(), headSHA: in.HeadSHA, status: "queued", startedAt: now, app: s.app}
	c.suiteID = s.suiteID(rp, in.HeadSHA)
	in.apply(c, now)
	rp.checkRuns = append(rp.checkRuns, c)
	defer s.mu.Unlock()
	writeJSON(w, http.StatusCreated, s.checkRunJSON(rp, c))
}

// checkRunFor returns the check run a request names, or answers 404.
func (s *Server) checkRunFor(w http.ResponseWriter, r *http.Request) (*repo, *checkRun) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return nil, nil
	}
	id := paramInt(r, "check_run_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range rp.checkRuns {
		if c.id == id {
			return rp, c
		}
	}
	notFound(w)
	return nil, nil
}

func (s *Server) getCheckRun(w http.ResponseWriter, r *http.Request) {
	rp, c := s.checkRunFor(w, r)
	if c == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, s.checkRunJSON(rp, c))
}

func (s *Server) updateCheckRun(w http.ResponseWriter, r *http.Request) {
	rp, c := s.checkRunFor(w, r)
	if c == nil {
		return
	}
	var in checkRunInput
	if !decodeBody(w, r, &in) {
		return
	}
	if errs := in.checkLimits(); len(errs) > 0 {
		validationFailed(w, errs...)
		return
	}
	defer s.advanceQueuesOf(rp, c.headSHA) // after the unlock below
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := in.changesCompleted(c); e != nil {
		validationFailed(w, *e)
		return
	}
	in.apply(c, time.Now().UTC())
	writeJSON(w, http.StatusOK, s.checkRunJSON(rp, c))
}

// changesCompleted refuses an update that would change the status or
// conclusion of a completed run: GitHub never lets a completed run go back
// to queued or in_progress, nor change its conclusion (create a new run
// with the same name instead; GitHub shows the newest). Output,
// annotations, actions and the other fields may still change, and
// repeating the same status and conclusion is no change.
func (in *checkRunInput) changesCompleted(c *checkRun) *fieldError {
	if c.status != "completed" {
		return nil
	}
	switch {
	case in.Status != nil && *in.Status != "completed":
		return &fieldError{Resource: "CheckRun", Field: "status", Code: "custom",
			Message: fmt.Sprintf("check run %d is completed; its status cannot change to %s: create a new check run", c.id, *in.Status)}
	case in.Conclusion != nil && *in.Conclusion != c.conclusion:
		return &fieldError{Resource: "CheckRun", Field: "conclusion", Code: "custom",
			Message: fmt.Sprintf("check run %d is completed as %s; its conclusion cannot change to %s: create a new check run", c.id, c.conclusion, *in.Conclusion)}
	}
	return nil
}

func (s *Server) listAnnotations(w http.ResponseWriter, r *http.Request) {
	rp, c := s.checkRunFor(w, r)
	if c == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]obj, 0, len(c.annotations))
	for _, a := range c.annotations {
		o := obj{"start_column": nil, "end_column": nil, "annotation_level": nil, "title": nil, "message": nil, "raw_details": nil}
		for k, v := range a {
			o[k] = v
		}
		p, _ := a["path"].(string)
		o["blob_href"] = s.api("/%s/blob/%s/%s", rp.fullName(), c.headSHA, p)
		out = append(out, o)
	}
	writeJSON(w, http.StatusOK, paginate(w, r, out))
}

func (s *Server) listCheckRunsForRef(w http.ResponseWriter, r *http.Request) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	sha := refOf(rp, param(r, "ref"))
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	latest := q.Get("filter") != "all"
	seen := map[string]bool{}
	var out []obj
	// Newest first, so filter=latest keeps each name's most recent run.
	for i := len(rp.checkRuns) - 1; i >= 0; i-- {
		c := rp.checkRuns[i]
		if c.headSHA != sha {
			continue
		}
		if n := q.Get("check_name"); n != "" && c.name != n {
			continue
		}
		if st := q.Get("status"); st != "" && c.status != st {
			continue
		}
		if latest && seen[c.name] {
			continue
		}
		seen[c.name] = true
		out = append(out, s.checkRunJSON(rp, c))
	}
	all := orEmpty(out)
	writeJSON(w, http.StatusOK, obj{"total_count": len(all), "check_runs": paginate(w, r, all)})
}
