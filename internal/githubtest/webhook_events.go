package githubtest

import "strings"

// The emit* functions build each event's payload from the state at the
// moment it happened and queue it. Events for a repository no installation
// covers are not sent, as on GitHub.

// envelope starts a payload for repository r: repository, sender and
// installation, or nil when no installation covers r. Callers hold s.mu.
func (s *Server) envelope(r *repo, action string, sender *User) obj {
	inst := s.installationFor(r)
	if inst == nil {
		s.logf("githubtest: no installation covers %s: event not delivered", r.fullName())
		return nil
	}
	p := obj{
		"repository":   s.repoJSON(r),
		"sender":       s.userJSON(sender),
		"installation": obj{"id": inst.ID, "node_id": nodeID("IN", inst.ID)},
	}
	if action != "" {
		p["action"] = action
	}
	return p
}

func (s *Server) emitPull(r *repo, pr *pullRequest, action string, sender *User, extra obj) {
	s.mu.Lock()
	p := s.envelope(r, action, sender)
	if p != nil {
		p["number"] = pr.number
		p["pull_request"] = s.pullJSON(r, pr)
		for k, v := range extra {
			p[k] = v
		}
	}
	s.mu.Unlock()
	if p != nil {
		s.emit("pull_request", action, p)
	}
}

func (s *Server) emitPush(r *repo, branch, before, after string, pusher *User) {
	g := r.git()
	var shas []string
	if before == "" {
		shas = []string{after}
	} else {
		shas, _ = g.commitsBetween(before, after)
	}
	commits := []any{}
	var head any
	for _, sha := range shas {
		c := s.pushCommitJSON(r, g, sha)
		commits = append(commits, c)
		head = c
	}
	zero := strings.Repeat("0", 40)
	if before == "" {
		before = zero
	}
	s.mu.Lock()
	p := s.envelope(r, "", pusher)
	if p != nil {
		p["ref"] = "refs/heads/" + branch
		p["before"] = before
		p["after"] = after
		p["created"] = before == zero
		p["deleted"] = false
		p["forced"] = false
		p["base_ref"] = nil
		p["compare"] = s.api("/%s/compare/%s...%s", r.fullName(), before[:12], after[:12])
		p["commits"] = commits
		p["head_commit"] = head
		p["pusher"] = obj{"name": pusher.Login, "email": pusher.Login + "@users.noreply.github.com"}
		// A push's repository carries two legacy fields every one of
		// GitHub's example push payloads has.
		if repo, ok := p["repository"].(obj); ok {
			repo["master_branch"] = r.defaultBranch
			repo["stargazers"] = repo["stargazers_count"]
		}
	}
	s.mu.Unlock()
	if p != nil {
		s.emit("push", "", p)
	}
}

// pushCommitJSON describes one commit of a push.
func (s *Server) pushCommitJSON(r *repo, g gitRepo, sha string) obj {
	info, err := g.commitInfo(sha)
	if err != nil {
		return obj{"id": sha}
	}
	added, removed, modified := []string{}, []string{}, []string{}
	parent := ""
	if len(info.parents) > 0 {
		parent = info.parents[0]
	}
	if parent != "" {
		changes, _ := g.diff(parent, sha)
		for _, c := range changes {
			switch c.status {
			case "added":
				added = append(added, c.filename)
			case "removed":
				removed = append(removed, c.filename)
			default:
				modified = append(modified, c.filename)
			}
		}
	} else if entries, err := g.ls(sha, ""); err == nil {
		for _, e := range entries {
			added = append(added, e.path)
		}
	}
	person := func(sg signature) obj {
		return obj{"name": sg.Name, "email": sg.Email, "username": sg.Name, "date": ts(sg.When)}
	}
	return obj{
		"id": sha, "tree_id": info.tree, "distinct": true, "message": info.message,
		"timestamp": ts(info.committer.When), "url": s.api("/%s/commit/%s", r.fullName(), sha),
		"author": person(info.author), "committer": person(info.committer),
		"added": added, "removed": removed, "modified": modified,
	}
}

func (s *Server) emitIssueComment(r *repo, c *comment, action string, sender *User, changes obj) {
	s.mu.Lock()
	p := s.envelope(r, action, sender)
	if p != nil {
		pr := r.pulls[c.issue]
		is := r.issues[c.issue]
		p["issue"] = s.issueJSON(r, is, pr)
		p["comment"] = s.commentJSON(r, c)
		if changes != nil {
			p["changes"] = changes
		}
	}
	s.mu.Unlock()
	if p != nil {
		s.emit("issue_comment", action, p)
	}
}

func (s *Server) emitIssue(r *repo, is *issue, action string, sender *User, changes obj) {
	s.mu.Lock()
	p := s.envelope(r, action, sender)
	if p != nil {
		p["issue"] = s.issueJSON(r, is, nil)
		if action == "edited" {
			p["changes"] = changes
		}
	}
	s.mu.Unlock()
	if p != nil {
		s.emit("issues", action, p)
	}
}

func (s *Server) emitReview(r *repo, pr *pullRequest, rv *review, action string, sender *User) {
	s.mu.Lock()
	p := s.envelope(r, action, sender)
	if p != nil {
		rj := s.reviewJSON(r, pr, rv)
		rj["state"] = strings.ToLower(rv.state) // webhooks spell states in lower case
		p["review"] = rj
		p["pull_request"] = s.simplePullJSON(r, pr)
	}
	s.mu.Unlock()
	if p != nil {
		s.emit("pull_request_review", action, p)
	}
}

func (s *Server) emitCheckRun(r *repo, c *checkRun, action string, sender *User, identifier string) {
	s.mu.Lock()
	p := s.envelope(r, action, sender)
	if p != nil {
		p["check_run"] = s.checkRunJSON(r, c)
		if action == "requested_action" {
			p["requested_action"] = obj{"identifier": identifier}
		}
	}
	s.mu.Unlock()
	if p != nil {
		s.emit("check_run", action, p)
	}
}

func (s *Server) emitCheckSuite(r *repo, sha, action string, sender *User) {
	s.mu.Lock()
	p := s.envelope(r, action, sender)
	if p != nil {
		p["check_suite"] = s.checkSuiteJSON(r, sha)
	}
	s.mu.Unlock()
	if p != nil {
		s.emit("check_suite", action, p)
	}
}

func (s *Server) emitInstallation(inst *Installation) {
	s.mu.Lock()
	repos := []any{}
	for _, r := range s.repos {
		if s.installationFor(r) == inst {
			repos = append(repos, obj{"id": r.id, "node_id": nodeID("R", r.id), "name": r.name, "full_name": r.fullName(), "private": r.private})
		}
	}
	p := obj{
		"action":       "created",
		"installation": s.installationJSON(inst),
		"repositories": repos,
		"sender":       s.userJSON(inst.Account),
	}
	s.mu.Unlock()
	s.emit("installation", "created", p)
}

// emitMergeGroup announces a merge group (checks_requested, or destroyed
// with a reason: merged, invalidated, dequeued).
func (s *Server) emitMergeGroup(r *repo, action string, group obj, reason string, sender *User) {
	s.mu.Lock()
	p := s.envelope(r, action, sender)
	if p != nil {
		p["merge_group"] = group
		if reason != "" {
			p["reason"] = reason
		}
	}
	s.mu.Unlock()
	if p != nil {
		s.emit("merge_group", action, p)
	}
}
