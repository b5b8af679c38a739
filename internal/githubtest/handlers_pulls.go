package githubtest

import (
	"errors"
	"net/http"
	"sort"
	"strings"
)

// pullFor returns the pull request a request names, or answers 404.
func (s *Server) pullFor(w http.ResponseWriter, r *http.Request) (*repo, *pullRequest) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return nil, nil
	}
	s.mu.Lock()
	pr, ok := rp.pulls[int(paramInt(r, "pull_number"))]
	s.mu.Unlock()
	if !ok {
		notFound(w)
		return nil, nil
	}
	return rp, pr
}

// sortedPulls returns rp's pull requests, newest first (GitHub's default). Callers hold s.mu.
func sortedPulls(rp *repo) []*pullRequest {
	list := make([]*pullRequest, 0, len(rp.pulls))
	for _, pr := range rp.pulls {
		list = append(list, pr)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].number > list[j].number })
	return list
}

func (s *Server) listPulls(w http.ResponseWriter, r *http.Request) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []obj
	for _, pr := range sortedPulls(rp) {
		if state != "all" && pr.state != state {
			continue
		}
		if h := q.Get("head"); h != "" && h != pr.headRepo.owner.Login+":"+pr.headRef {
			continue
		}
		if b := q.Get("base"); b != "" && b != pr.baseRef {
			continue
		}
		out = append(out, s.simplePullJSON(rp, pr))
	}
	writeJSON(w, http.StatusOK, paginate(w, r, orEmpty(out)))
}

func orEmpty(l []obj) []obj {
	if l == nil {
		return []obj{}
	}
	return l
}

func (s *Server) getPull(w http.ResponseWriter, r *http.Request) {
	rp, pr := s.pullFor(w, r)
	if pr == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, s.pullJSON(rp, pr))
}

func (s *Server) createPull(w http.ResponseWriter, r *http.Request) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	var in struct {
		Title, Head, Base, Body string
		Draft                   bool
	}
	if !decodeBody(w, r, &in) {
		return
	}
	opts := PROptions{Head: in.Head, Base: in.Base, Title: in.Title, Body: in.Body, Draft: in.Draft}
	if owner, branch, ok := strings.Cut(in.Head, ":"); ok {
		opts.Head = branch
		if owner != rp.owner.Login {
			opts.HeadRepo = owner + "/" + rp.name
		}
	}
	s.mu.Lock()
	opts.Author = s.actor(r).Login
	s.mu.Unlock()
	n, err := s.openPR(rp.fullName(), opts)
	if err != nil {
		validationFailed(w, fieldError{Resource: "PullRequest", Field: "head", Code: "custom", Message: err.Error()})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusCreated, s.pullJSON(rp, rp.pulls[n]))
}

// pullRange finds a pull request's head and its merge base with the base
// branch: what GitHub lists as the PR's files and commits. On failure it
// has answered the request and returns a nil git.
func (s *Server) pullRange(w http.ResponseWriter, r *http.Request) (rp *repo, g *gitRepo, mergeBase, head string) {
	var git gitRepo
	rp, pr := s.pullFor(w, r)
	if pr == nil {
		return nil, nil, "", ""
	}
	s.mu.Lock()
	head, base := pr.headSHA, s.baseSHA(rp, pr)
	s.mu.Unlock()
	git = rp.git()
	mb, err := git.mergeBase(base, head)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return nil, nil, "", ""
	}
	return rp, &git, mb, head
}

func (s *Server) listPullFiles(w http.ResponseWriter, r *http.Request) {
	rp, g, mb, head := s.pullRange(w, r)
	if g == nil {
		return
	}
	changes, err := g.diff(mb, head)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	list := make([]obj, 0, len(changes))
	for _, c := range changes {
		list = append(list, s.fileJSON(rp, head, c))
	}
	writeJSON(w, http.StatusOK, paginate(w, r, list))
}

func (s *Server) listPullCommits(w http.ResponseWriter, r *http.Request) {
	rp, g, mb, head := s.pullRange(w, r)
	if g == nil {
		return
	}
	shas, err := g.commitsBetween(mb, head)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	full := rp.fullName()
	list := make([]obj, 0, len(shas))
	for _, sha := range shas {
		info, err := g.commitInfo(sha)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		parents := []obj{}
		for _, p := range info.parents {
			parents = append(parents, obj{"sha": p, "url": s.api("/repos/%s/commits/%s", full, p)})
		}
		person := func(sg signature) obj { return obj{"name": sg.Name, "email": sg.Email, "date": ts(sg.When)} }
		list = append(list, obj{
			"url": s.api("/repos/%s/commits/%s", full, sha), "sha": sha, "node_id": nodeID("C", int64(len(list))),
			"html_url": s.api("/%s/commit/%s", full, sha), "comments_url": s.api("/repos/%s/commits/%s/comments", full, sha),
			"commit": obj{
				"url": s.api("/repos/%s/git/commits/%s", full, sha), "author": person(info.author), "committer": person(info.committer),
				"message": info.message, "comment_count": 0,
				"tree": obj{"sha": info.tree, "url": s.api("/repos/%s/git/trees/%s", full, info.tree)},
			},
			"author": nil, "committer": nil, "parents": parents,
		})
	}
	writeJSON(w, http.StatusOK, paginate(w, r, list))
}

func (s *Server) mergePull(w http.ResponseWriter, r *http.Request) {
	rp, pr := s.pullFor(w, r)
	if pr == nil {
		return
	}
	var in struct {
		CommitTitle   string `json:"commit_title"`
		CommitMessage string `json:"commit_message"`
		SHA           string `json:"sha"`
		MergeMethod   string `json:"merge_method"`
	}
	if r.ContentLength != 0 && !decodeBody(w, r, &in) {
		return
	}
	s.mu.Lock()
	login := s.actor(r).Login
	s.mu.Unlock()
	sha, err := s.mergePR(rp.fullName(), pr.number, login, in.MergeMethod, in.SHA, in.CommitTitle, in.CommitMessage)
	if err != nil {
		var me *mergeError
		if errors.As(err, &me) {
			writeError(w, me.status, me.Error())
			return
		}
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, obj{"sha": sha, "merged": true, "message": "Pull Request successfully merged"})
}

// listCommitPulls lists pull requests whose head is the commit, or that it was merged by.
func (s *Server) listCommitPulls(w http.ResponseWriter, r *http.Request) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	sha := refOf(rp, param(r, "commit_sha"))
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []obj
	for _, pr := range sortedPulls(rp) {
		if sha != "" && (pr.headSHA == sha || (pr.merged && pr.mergeCommitSHA == sha)) {
			out = append(out, s.simplePullJSON(rp, pr))
		}
	}
	writeJSON(w, http.StatusOK, paginate(w, r, orEmpty(out)))
}
