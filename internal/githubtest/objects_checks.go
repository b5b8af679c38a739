package githubtest

import "sort"

// suiteID returns the check suite of sha (the app has one per commit). Callers hold s.mu.
func (s *Server) suiteID(r *repo, sha string) int64 {
	if r.suites == nil {
		r.suites = map[string]int64{}
	}
	id, ok := r.suites[sha]
	if !ok {
		id = s.id()
		r.suites[sha] = id
	}
	return id
}

// headBranch names a branch whose head is sha, or nil. Callers hold s.mu.
func (s *Server) headBranch(r *repo, sha string) any {
	for _, pr := range r.pulls {
		if pr.headSHA == sha && pr.headRepo == r {
			return pr.headRef
		}
	}
	return nil
}

// commitInfo returns a commit's details, from the cache when it can. Callers hold s.mu.
func (s *Server) commitInfo(r *repo, sha string) commitInfo {
	if c, ok := r.commitCache[sha]; ok {
		return c
	}
	c, err := r.git().commitInfo(sha)
	if err != nil {
		return commitInfo{sha: sha}
	}
	if r.commitCache == nil {
		r.commitCache = map[string]commitInfo{}
	}
	r.commitCache[sha] = c
	return c
}

// checkPullRequests lists open pull requests whose head is sha, in the
// minimal shape check runs and suites carry. Callers hold s.mu.
func (s *Server) checkPullRequests(r *repo, sha string) []any {
	var nums []int
	for n, pr := range r.pulls {
		if pr.headSHA == sha && pr.state == "open" {
			nums = append(nums, n)
		}
	}
	sort.Ints(nums)
	out := []any{}
	ref := func(rp *repo, branch, sha string) obj {
		return obj{"ref": branch, "sha": sha, "repo": obj{"id": rp.id, "url": s.api("/repos/%s", rp.fullName()), "name": rp.name}}
	}
	for _, n := range nums {
		pr := r.pulls[n]
		out = append(out, obj{
			"url": s.api("/repos/%s/pulls/%d", r.fullName(), n), "id": pr.id, "number": n,
			"head": ref(pr.headRepo, pr.headRef, pr.headSHA), "base": ref(r, pr.baseRef, s.baseSHA(r, pr)),
		})
	}
	return out
}

func (s *Server) checkSuiteJSON(r *repo, sha string) obj {
	id := s.suiteID(r, sha)
	status, conclusion := "queued", any(nil)
	var runs []*checkRun
	for _, c := range r.checkRuns {
		if c.headSHA == sha {
			runs = append(runs, c)
		}
	}
	if len(runs) > 0 {
		status = "completed"
		worst := "success"
		for _, c := range runs {
			if c.status != "completed" {
				status = "in_progress"
			} else if c.conclusion != "success" && c.conclusion != "neutral" && c.conclusion != "skipped" {
				worst = c.conclusion
			}
		}
		if status == "completed" {
			conclusion = worst
		}
	}
	info := s.commitInfo(r, sha)
	created := r.createdAt
	if len(runs) > 0 {
		created = runs[0].startedAt
	}
	return obj{
		"id": id, "node_id": nodeID("CS", id), "head_branch": s.headBranch(r, sha), "head_sha": sha,
		"status": status, "conclusion": conclusion,
		"url":    s.api("/repos/%s/check-suites/%d", r.fullName(), id),
		"before": nil, "after": sha, "pull_requests": s.checkPullRequests(r, sha), "app": s.appJSON(),
		"created_at": ts(created), "updated_at": ts(created),
		"latest_check_runs_count": len(runs),
		"check_runs_url":          s.api("/repos/%s/check-suites/%d/check-runs", r.fullName(), id),
		"head_commit": obj{
			"id": sha, "tree_id": info.tree, "message": info.message, "timestamp": ts(info.committer.When),
			"author":    obj{"name": info.author.Name, "email": info.author.Email},
			"committer": obj{"name": info.committer.Name, "email": info.committer.Email},
		},
	}
}

func (s *Server) checkRunJSON(r *repo, c *checkRun) obj {
	full := r.fullName()
	var conclusion any
	if c.conclusion != "" {
		conclusion = c.conclusion
	}
	details := c.detailsURL
	if details == "" {
		details = s.api("/%s/runs/%d", full, c.id)
	}
	// A check run carries its suite without the suite's own run count,
	// runs URL and head commit (the webhook schema forbids them there).
	suite := s.checkSuiteJSON(r, c.headSHA)
	delete(suite, "head_commit")
	delete(suite, "check_runs_url")
	delete(suite, "latest_check_runs_count")
	return obj{
		"id": c.id, "node_id": nodeID("CR", c.id), "head_sha": c.headSHA, "external_id": c.externalID,
		"url":         s.api("/repos/%s/check-runs/%d", full, c.id),
		"html_url":    s.api("/%s/runs/%d", full, c.id),
		"details_url": details,
		"status":      c.status, "conclusion": conclusion,
		"started_at": ts(c.startedAt), "completed_at": tsPtr(c.completedAt),
		"output": obj{
			"title": nullable(c.title), "summary": nullable(c.summary), "text": nullable(c.text),
			"annotations_count": len(c.annotations),
			"annotations_url":   s.api("/repos/%s/check-runs/%d/annotations", full, c.id),
		},
		"name": c.name, "check_suite": suite, "app": s.appJSONOf(c.app),
		"pull_requests": s.checkPullRequests(r, c.headSHA),
	}
}

func (s *Server) statusJSON(r *repo, st *status) obj {
	return obj{
		"url": s.api("/repos/%s/statuses/%s", r.fullName(), st.sha), "avatar_url": s.api("/avatars/%s", st.creator.Login),
		"id": st.id, "node_id": nodeID("SC", st.id), "state": st.state,
		"description": nullable(st.description), "target_url": nullable(st.targetURL), "context": st.context,
		"created_at": ts(st.createdAt), "updated_at": ts(st.createdAt), "creator": s.userJSON(st.creator),
	}
}
