package githubtest

// simplePullJSON is the pull request as pull_request_review events carry it.
func (s *Server) simplePullJSON(r *repo, pr *pullRequest) obj {
	full := r.fullName()
	api := s.api("/repos/%s/pulls/%d", full, pr.number)
	html := s.api("/%s/pull/%d", full, pr.number)
	issue := s.api("/repos/%s/issues/%d", full, pr.number)
	link := func(h string) obj { return obj{"href": h} }
	state := pr.state
	return obj{
		"url": api, "id": pr.id, "node_id": nodeID("PR", pr.id), "html_url": html,
		"diff_url": html + ".diff", "patch_url": html + ".patch", "issue_url": issue,
		"number": pr.number, "state": state, "locked": false, "title": pr.title,
		"user": s.userJSON(pr.author), "body": nullable(pr.body),
		"created_at": ts(pr.createdAt), "updated_at": ts(pr.updatedAt),
		"closed_at": tsPtr(pr.closedAt), "merged_at": tsPtr(pr.mergedAt),
		"merge_commit_sha": nullable(pr.mergeCommitSHA),
		"assignee":         nil, "assignees": []any{}, "requested_reviewers": []any{}, "requested_teams": []any{},
		"labels": []any{}, "milestone": nil, "draft": pr.draft,
		"commits_url":         api + "/commits",
		"review_comments_url": api + "/comments",
		"review_comment_url":  s.api("/repos/%s/pulls/comments{/number}", full),
		"comments_url":        issue + "/comments",
		"statuses_url":        s.api("/repos/%s/statuses/%s", full, pr.headSHA),
		"head":                s.branchJSON(pr.headRepo, pr.headRef, pr.headSHA),
		"base":                s.branchJSON(r, pr.baseRef, s.baseSHA(r, pr)),
		"_links": obj{
			"self": link(api), "html": link(html), "issue": link(issue), "comments": link(issue + "/comments"),
			"review_comments": link(api + "/comments"), "review_comment": link(s.api("/repos/%s/pulls/comments{/number}", full)),
			"commits": link(api + "/commits"), "statuses": link(s.api("/repos/%s/statuses/%s", full, pr.headSHA)),
		},
		"author_association": s.association(r, pr.author), "auto_merge": nil, "active_lock_reason": nil,
	}
}

// pullJSON is the full pull request (REST and pull_request events).
func (s *Server) pullJSON(r *repo, pr *pullRequest) obj {
	o := s.simplePullJSON(r, pr)
	mergeable, mstate := s.mergeability(r, pr)
	var merged any
	if pr.mergedBy != nil {
		merged = s.userJSON(pr.mergedBy)
	}
	var m any
	if mergeable != nil {
		m = *mergeable
	}
	comments := 0
	for _, c := range r.comments {
		if c.issue == pr.number && !c.deleted {
			comments++
		}
	}
	o["merged"] = pr.merged
	o["mergeable"] = m
	o["rebaseable"] = m
	o["mergeable_state"] = mstate
	o["merged_by"] = merged
	o["comments"] = comments
	o["review_comments"] = 0
	o["maintainer_can_modify"] = false
	o["commits"] = pr.stats.commits
	o["additions"] = pr.stats.additions
	o["deletions"] = pr.stats.deletions
	o["changed_files"] = pr.stats.changedFiles
	return o
}

// baseSHA is the base branch's head as the pull request last saw it. Callers hold s.mu.
func (s *Server) baseSHA(r *repo, pr *pullRequest) string { return pr.baseSHA }

func (s *Server) branchJSON(r *repo, ref, sha string) obj {
	return obj{
		"label": r.owner.Login + ":" + ref, "ref": ref, "sha": sha,
		"user": s.userJSON(r.owner), "repo": s.headRepoJSON(r),
	}
}

// issueJSON renders an issue, or the issue side of a pull request (pr != nil).
func (s *Server) issueJSON(r *repo, is *issue, pr *pullRequest) obj {
	full := r.fullName()
	var number int
	var id int64
	o := obj{}
	if pr != nil {
		number, id = pr.number, pr.id+1 // GitHub's issue and PR ids differ
		o["title"], o["body"], o["user"] = pr.title, nullable(pr.body), s.userJSON(pr.author)
		o["state"], o["created_at"], o["updated_at"], o["closed_at"] = pr.state, ts(pr.createdAt), ts(pr.updatedAt), tsPtr(pr.closedAt)
		o["author_association"] = s.association(r, pr.author)
		o["labels"] = []any{}
		o["draft"] = pr.draft
		html := s.api("/%s/pull/%d", full, number)
		o["pull_request"] = obj{
			"url": s.api("/repos/%s/pulls/%d", full, number), "html_url": html,
			"diff_url": html + ".diff", "patch_url": html + ".patch", "merged_at": tsPtr(pr.mergedAt),
		}
		o["html_url"] = html
	} else {
		number, id = is.number, is.id
		o["title"], o["body"], o["user"] = is.title, nullable(is.body), s.userJSON(is.author)
		o["state"], o["created_at"], o["updated_at"], o["closed_at"] = is.state, ts(is.createdAt), ts(is.updatedAt), tsPtr(is.closedAt)
		o["author_association"] = s.association(r, is.author)
		labels := []any{}
		for _, l := range is.labels {
			labels = append(labels, s.labelJSON(r, l))
		}
		o["labels"] = labels
		o["html_url"] = s.api("/%s/issues/%d", full, number)
		if is.state == "closed" {
			o["state_reason"] = "completed"
		} else {
			o["state_reason"] = nil
		}
	}
	api := s.api("/repos/%s/issues/%d", full, number)
	comments := 0
	for _, c := range r.comments {
		if c.issue == number && !c.deleted {
			comments++
		}
	}
	o["url"] = api
	o["repository_url"] = s.api("/repos/%s", full)
	o["labels_url"] = api + "/labels{/name}"
	o["comments_url"] = api + "/comments"
	o["events_url"] = api + "/events"
	o["timeline_url"] = api + "/timeline"
	o["id"] = id
	o["node_id"] = nodeID("I", id)
	o["number"] = number
	o["assignee"] = nil
	o["assignees"] = []any{}
	o["milestone"] = nil
	o["comments"] = comments
	o["locked"] = false
	o["active_lock_reason"] = nil
	o["performed_via_github_app"] = nil
	o["reactions"] = reactionRollup(api+"/reactions", nil)
	return o
}

func (s *Server) labelJSON(r *repo, name string) obj {
	var h int64
	for _, c := range name {
		h = h*31 + int64(c)
	}
	if h < 0 {
		h = -h
	}
	return obj{
		"id": h, "node_id": nodeID("LA", h), "url": s.api("/repos/%s/labels/%s", r.fullName(), name),
		"name": name, "color": "ededed", "default": false, "description": nil,
	}
}

func (s *Server) commentJSON(r *repo, c *comment) obj {
	full := r.fullName()
	html := s.api("/%s/issues/%d#issuecomment-%d", full, c.issue, c.id)
	if _, isPR := r.pulls[c.issue]; isPR {
		html = s.api("/%s/pull/%d#issuecomment-%d", full, c.issue, c.id)
	}
	url := s.api("/repos/%s/issues/comments/%d", full, c.id)
	var app any
	if c.author.Type == "Bot" {
		app = s.appJSON()
	}
	return obj{
		"url": url, "html_url": html, "issue_url": s.api("/repos/%s/issues/%d", full, c.issue),
		"id": c.id, "node_id": nodeID("IC", c.id), "user": s.userJSON(c.author),
		"created_at": ts(c.createdAt), "updated_at": ts(c.updatedAt),
		"author_association": s.association(r, c.author), "performed_via_github_app": app,
		"body": c.body, "reactions": reactionRollup(url+"/reactions", c.reactions),
	}
}

func (s *Server) reviewJSON(r *repo, pr *pullRequest, rv *review) obj {
	full := r.fullName()
	html := s.api("/%s/pull/%d#pullrequestreview-%d", full, pr.number, rv.id)
	pull := s.api("/repos/%s/pulls/%d", full, pr.number)
	return obj{
		"id": rv.id, "node_id": nodeID("PRR", rv.id), "user": s.userJSON(rv.author),
		"body": rv.body, "commit_id": rv.commitID, "submitted_at": ts(rv.submittedAt),
		"state": rv.state, "html_url": html, "pull_request_url": pull,
		"author_association": s.association(r, rv.author),
		"_links":             obj{"html": obj{"href": html}, "pull_request": obj{"href": pull}},
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Server) reactionJSON(rc *reaction) obj {
	return obj{"id": rc.id, "node_id": nodeID("REA", rc.id), "user": s.userJSON(rc.user), "content": rc.content, "created_at": ts(rc.createdAt)}
}
