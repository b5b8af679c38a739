package githubtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Deployments, as GitHub's REST API has them:
//
//   - auto_merge (default true): deploying a branch that lacks the default
//     branch's head merges the default branch into it first (a real merge
//     commit, announced with push) and answers 202 without creating the
//     deployment; a conflict answers 409. A SHA or tag is never merged into.
//   - required_contexts: omitted, every context reported on the commit
//     (latest commit status per context, latest check run per name) must
//     have succeeded; a list names the contexts that must (one never
//     reported counts as not succeeded); [] checks nothing. Otherwise 409
//     "Conflict: Commit status checks failed for <ref>.", pending counting
//     as not succeeded, as on GitHub.
//   - environment defaults to "production", production_environment to
//     environment == "production", task to "deploy".
//   - A success status with auto_inactive (default true) adds an inactive
//     status to every earlier non-transient, non-production deployment of
//     the same environment whose latest state is success (the description
//     of auto_inactive says exactly this). A status's environment, when
//     given, moves the deployment to that environment.
//   - Lists are newest first. deployment and deployment_status webhooks
//     are not sent: tugboat's app does not subscribe to them.

type deploymentInput struct {
	Ref                   string          `json:"ref"`
	Task                  *string         `json:"task"`
	AutoMerge             *bool           `json:"auto_merge"`
	RequiredContexts      *[]string       `json:"required_contexts"`
	Payload               json.RawMessage `json:"payload"`
	Environment           *string         `json:"environment"`
	Description           *string         `json:"description"`
	TransientEnvironment  bool            `json:"transient_environment"`
	ProductionEnvironment *bool           `json:"production_environment"`
}

func (s *Server) createDeployment(w http.ResponseWriter, r *http.Request) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	var in deploymentInput
	if !decodeBody(w, r, &in) {
		return
	}
	s.mu.Lock()
	actor := s.actor(r)
	s.mu.Unlock()
	if in.AutoMerge == nil || *in.AutoMerge {
		if msg, status := s.autoMergeDefault(rp, in.Ref, actor); status != 0 {
			writeJSON(w, status, obj{"message": msg, "documentation_url": docsURL})
			return
		}
	}
	sha := refOf(rp, in.Ref)
	if sha == "" {
		validationFailed(w, fieldError{Resource: "Deployment", Field: "ref", Code: "invalid", Message: "No ref found for: " + in.Ref})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if failed := s.failedContexts(rp, sha, in.RequiredContexts); len(failed) > 0 {
		writeJSON(w, http.StatusConflict, obj{
			"message":           fmt.Sprintf("Conflict: Commit status checks failed for %s.", in.Ref),
			"errors":            []obj{{"contexts": failed, "resource": "Deployment", "field": "required_contexts", "code": "invalid"}},
			"documentation_url": docsURL,
		})
		return
	}
	env := "production"
	if in.Environment != nil && *in.Environment != "" {
		env = *in.Environment
	}
	production := env == "production"
	if in.ProductionEnvironment != nil {
		production = *in.ProductionEnvironment
	}
	task := "deploy"
	if in.Task != nil && *in.Task != "" {
		task = *in.Task
	}
	var payload any = obj{}
	if len(in.Payload) > 0 && string(in.Payload) != "null" {
		if err := json.Unmarshal(in.Payload, &payload); err != nil {
			writeError(w, http.StatusBadRequest, "Problems parsing JSON")
			return
		}
	}
	now := time.Now().UTC()
	d := &deployment{
		id: s.id(), sha: sha, ref: in.Ref, task: task, environment: env, original: env,
		payload: payload, creator: actor, transient: in.TransientEnvironment, production: production,
		createdAt: now, updatedAt: now,
	}
	if in.Description != nil {
		d.description = *in.Description
	}
	rp.deployments = append(rp.deployments, d)
	writeJSON(w, http.StatusCreated, s.deploymentJSON(rp, d))
}

// autoMergeDefault does what auto_merge asks: when ref is a branch other
// than the default branch and lacks the default branch's head, it merges
// the default branch into it. It returns the message and status to answer
// instead of creating the deployment (202 merged, 409 conflict), or 0.
func (s *Server) autoMergeDefault(rp *repo, ref string, actor *User) (string, int) {
	s.gitMu.Lock()
	g := rp.git()
	head := g.branchHead(ref)
	def := g.branchHead(rp.defaultBranch)
	if head == "" || ref == rp.defaultBranch || def == "" || g.isAncestor(def, head) {
		s.gitMu.Unlock()
		return "", 0
	}
	tree, conflict, err := g.testMerge(head, def)
	if err != nil || conflict {
		s.gitMu.Unlock()
		return fmt.Sprintf("Conflict merging %s into %s.", rp.defaultBranch, ref), http.StatusConflict
	}
	who := signature{Name: actor.Login, Email: actor.Login + "@users.noreply.github.com", When: time.Now().UTC()}
	sha, err := g.commitTree(tree, []string{head, def}, fmt.Sprintf("Merge %s into %s", rp.defaultBranch, ref), who)
	if err == nil {
		err = g.updateRef("refs/heads/"+ref, sha, head)
	}
	s.gitMu.Unlock()
	if err != nil {
		return err.Error(), http.StatusInternalServerError
	}
	s.emitPush(rp, ref, head, sha, actor)
	s.branchMoved(rp, ref, actor)
	return fmt.Sprintf("Auto-merged %s into %s on deployment.", rp.defaultBranch, ref), http.StatusAccepted
}

// failedContexts lists the contexts a deployment of sha waits for that
// have not succeeded: the named ones, or (required == nil) every context
// reported on sha. Callers hold s.mu.
func (s *Server) failedContexts(rp *repo, sha string, required *[]string) []obj {
	var names []string
	if required != nil {
		names = *required
	} else {
		seen := map[string]bool{}
		for _, st := range rp.statuses {
			if st.sha == sha && !seen[st.context] {
				seen[st.context] = true
				names = append(names, st.context)
			}
		}
		for _, c := range rp.checkRuns {
			if c.headSHA == sha && !seen[c.name] {
				seen[c.name] = true
				names = append(names, c.name)
			}
		}
	}
	var failed []obj
	for _, n := range names {
		if st := contextState(rp, sha, n); st != "success" {
			failed = append(failed, obj{"context": n, "state": st})
		}
	}
	return failed
}

// deploymentFor returns the deployment a request names, or answers 404.
func (s *Server) deploymentFor(w http.ResponseWriter, r *http.Request) (*repo, *deployment) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return nil, nil
	}
	id := paramInt(r, "deployment_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range rp.deployments {
		if d.id == id {
			return rp, d
		}
	}
	notFound(w)
	return nil, nil
}

func (s *Server) listDeployments(w http.ResponseWriter, r *http.Request) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []obj{}
	for i := len(rp.deployments) - 1; i >= 0; i-- {
		d := rp.deployments[i]
		if v := q.Get("sha"); v != "" && v != d.sha {
			continue
		}
		if v := q.Get("ref"); v != "" && v != d.ref {
			continue
		}
		if v := q.Get("task"); v != "" && v != d.task {
			continue
		}
		if v := q.Get("environment"); v != "" && v != d.environment {
			continue
		}
		out = append(out, s.deploymentJSON(rp, d))
	}
	writeJSON(w, http.StatusOK, paginate(w, r, out))
}

func (s *Server) getDeployment(w http.ResponseWriter, r *http.Request) {
	rp, d := s.deploymentFor(w, r)
	if d == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, s.deploymentJSON(rp, d))
}

func (s *Server) createDeploymentStatus(w http.ResponseWriter, r *http.Request) {
	rp, d := s.deploymentFor(w, r)
	if d == nil {
		return
	}
	var in struct {
		State          string  `json:"state"`
		TargetURL      *string `json:"target_url"`
		LogURL         *string `json:"log_url"`
		Description    string  `json:"description"`
		Environment    *string `json:"environment"`
		EnvironmentURL string  `json:"environment_url"`
		AutoInactive   *bool   `json:"auto_inactive"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	if e := tooLong("DeploymentStatus", "description", in.Description, maxStatusDescription); e != nil {
		validationFailed(w, *e)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now().UTC()
	if in.Environment != nil && *in.Environment != "" {
		d.environment = *in.Environment
	}
	st := &deploymentStatus{
		id: s.id(), state: in.State, description: in.Description, environment: d.environment,
		envURL: in.EnvironmentURL, creator: s.actor(r), createdAt: now,
	}
	// log_url replaces target_url and sets it too.
	if in.TargetURL != nil {
		st.targetURL = *in.TargetURL
	}
	if in.LogURL != nil {
		st.logURL, st.targetURL = *in.LogURL, *in.LogURL
	}
	d.statuses = append(d.statuses, st)
	d.updatedAt = now
	if in.State == "success" && (in.AutoInactive == nil || *in.AutoInactive) {
		for _, old := range rp.deployments {
			if old.id >= d.id || old.environment != d.environment || old.transient || old.production || old.state() != "success" {
				continue
			}
			old.statuses = append(old.statuses, &deploymentStatus{
				id: s.id(), state: "inactive", environment: old.environment, creator: st.creator, createdAt: now,
			})
			old.updatedAt = now
		}
	}
	w.Header().Set("Location", s.api("/repos/%s/deployments/%d/statuses/%d", rp.fullName(), d.id, st.id))
	writeJSON(w, http.StatusCreated, s.deploymentStatusJSON(rp, d, st))
}

func (s *Server) listDeploymentStatuses(w http.ResponseWriter, r *http.Request) {
	rp, d := s.deploymentFor(w, r)
	if d == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []obj{}
	for i := len(d.statuses) - 1; i >= 0; i-- {
		out = append(out, s.deploymentStatusJSON(rp, d, d.statuses[i]))
	}
	writeJSON(w, http.StatusOK, paginate(w, r, out))
}

// state is the deployment's latest status state, or "" before any.
func (d *deployment) state() string {
	if len(d.statuses) == 0 {
		return ""
	}
	return d.statuses[len(d.statuses)-1].state
}

func (s *Server) deploymentJSON(rp *repo, d *deployment) obj {
	full := rp.fullName()
	api := s.api("/repos/%s/deployments/%d", full, d.id)
	var app any
	if d.creator.Type == "Bot" {
		app = s.appJSON()
	}
	return obj{
		"url": api, "id": d.id, "node_id": nodeID("DE", d.id), "sha": d.sha, "ref": d.ref, "task": d.task,
		"payload": d.payload, "original_environment": d.original, "environment": d.environment,
		"description": nullable(d.description), "creator": s.userJSON(d.creator),
		"created_at": ts(d.createdAt), "updated_at": ts(d.updatedAt),
		"statuses_url": api + "/statuses", "repository_url": s.api("/repos/%s", full),
		"transient_environment": d.transient, "production_environment": d.production,
		"performed_via_github_app": app,
	}
}

func (s *Server) deploymentStatusJSON(rp *repo, d *deployment, st *deploymentStatus) obj {
	full := rp.fullName()
	dep := s.api("/repos/%s/deployments/%d", full, d.id)
	var app any
	if st.creator.Type == "Bot" {
		app = s.appJSON()
	}
	return obj{
		"url": dep + "/statuses/" + strconv.FormatInt(st.id, 10), "id": st.id, "node_id": nodeID("DES", st.id),
		"state": st.state, "creator": s.userJSON(st.creator), "description": st.description,
		"environment": st.environment, "target_url": st.targetURL, "log_url": st.logURL,
		"environment_url": st.envURL, "created_at": ts(st.createdAt), "updated_at": ts(st.createdAt),
		"deployment_url": dep, "repository_url": s.api("/repos/%s", full),
		"performed_via_github_app": app,
	}
}
