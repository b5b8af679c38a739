package githubtest

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// GitHub's Git Data API (blobs, trees, commits, refs): how a client that
// has no clone writes a branch. The emulator keeps real git repositories,
// so each call is the git plumbing command it stands for.

// hexSHA reports whether s is a full lower-case SHA-1.
func hexSHA(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

func (s *Server) createBlob(w http.ResponseWriter, r *http.Request) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	var in struct{ Content, Encoding string }
	if !decodeBody(w, r, &in) {
		return
	}
	data := []byte(in.Content)
	switch in.Encoding {
	case "", "utf-8":
	case "base64":
		b, err := base64.StdEncoding.DecodeString(in.Content)
		if err != nil {
			validationFailed(w, fieldError{Resource: "Blob", Field: "content", Code: "invalid", Message: "content is not valid Base64"})
			return
		}
		data = b
	default:
		validationFailed(w, fieldError{Resource: "Blob", Field: "encoding", Code: "invalid",
			Message: fmt.Sprintf("encoding must be utf-8 or base64, not %q", in.Encoding)})
		return
	}
	sha, err := rp.git().run(data, "hash-object", "-w", "--stdin")
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	sha = strings.TrimSpace(sha)
	writeJSON(w, http.StatusCreated, obj{"sha": sha, "url": s.api("/repos/%s/git/blobs/%s", rp.fullName(), sha)})
}

func (s *Server) createTree(w http.ResponseWriter, r *http.Request) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	var in struct {
		BaseTree string `json:"base_tree"`
		Tree     []struct {
			Path, Mode, Type string
			SHA              *string
			Content          *string
		}
	}
	if !decodeBody(w, r, &in) {
		return
	}
	g := rp.git()
	index := filepath.Join(g.dir, fmt.Sprintf("index-tree-%d", time.Now().UnixNano()))
	defer os.Remove(index)
	env := []string{"GIT_INDEX_FILE=" + index}
	if in.BaseTree != "" {
		if _, err := g.runEnv(env, nil, "read-tree", in.BaseTree); err != nil {
			validationFailed(w, fieldError{Resource: "Tree", Field: "base_tree", Code: "invalid", Message: "base_tree is not a valid tree oid"})
			return
		}
	}
	for _, e := range in.Tree {
		if e.Type == "tree" || e.Type == "commit" || e.Mode == "040000" || e.Mode == "160000" {
			s.recordFailure(ContractFailure{Kind: "not emulated", Method: r.Method, Path: r.URL.Path, Operation: "git/createTree",
				Err: "only blob entries are emulated; got type " + e.Type})
			validationFailed(w, fieldError{Resource: "Tree", Field: "tree.type", Code: "custom", Message: "githubtest: only blob entries are emulated"})
			return
		}
		mode := e.Mode
		if mode == "" {
			mode = "100644"
		}
		var line string
		switch {
		case e.Content != nil:
			blob, err := g.run([]byte(*e.Content), "hash-object", "-w", "--stdin")
			if err != nil {
				writeError(w, http.StatusInternalServerError, err.Error())
				return
			}
			line = mode + " " + strings.TrimSpace(blob) + "\t" + e.Path
		case e.SHA == nil:
			// sha: null deletes the path from base_tree.
			line = "0 " + strings.Repeat("0", 40) + "\t" + e.Path
		default:
			if out, err := g.run(nil, "cat-file", "-t", *e.SHA); err != nil || strings.TrimSpace(out) != "blob" {
				validationFailed(w, fieldError{Resource: "Tree", Field: "tree.sha", Code: "invalid", Message: "tree.sha " + *e.SHA + " is not a valid blob"})
				return
			}
			line = mode + " " + *e.SHA + "\t" + e.Path
		}
		if _, err := g.runEnv(env, []byte(line+"\n"), "update-index", "--add", "--index-info"); err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
	}
	tree, err := g.runEnv(env, nil, "write-tree")
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	tree = strings.TrimSpace(tree)
	writeJSON(w, http.StatusCreated, s.treeJSON(rp, tree))
}

// treeJSON describes a tree's top level, as GitHub answers createTree.
func (s *Server) treeJSON(rp *repo, tree string) obj {
	g := rp.git()
	full := rp.fullName()
	out, _ := g.run(nil, "ls-tree", "-z", "--long", tree)
	entries := []obj{}
	for _, rec := range strings.Split(strings.TrimRight(out, "\x00"), "\x00") {
		if rec == "" {
			continue
		}
		meta, name, _ := strings.Cut(rec, "\t")
		f := strings.Fields(meta)
		e := obj{"path": name, "mode": f[0], "type": f[1], "sha": f[2], "url": s.api("/repos/%s/git/%ss/%s", full, f[1], f[2])}
		if f[1] == "blob" {
			var size int64
			fmt.Sscan(f[3], &size)
			e["size"] = size
		}
		entries = append(entries, e)
	}
	return obj{"sha": tree, "url": s.api("/repos/%s/git/trees/%s", full, tree), "truncated": false, "tree": entries}
}

func (s *Server) createGitCommit(w http.ResponseWriter, r *http.Request) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	type person struct{ Name, Email, Date string }
	var in struct {
		Message, Tree string
		Parents       []string
		Author        *person
	}
	if !decodeBody(w, r, &in) {
		return
	}
	g := rp.git()
	if out, err := g.run(nil, "cat-file", "-t", in.Tree); err != nil || strings.TrimSpace(out) != "tree" {
		validationFailed(w, fieldError{Resource: "Commit", Field: "tree", Code: "invalid", Message: "Tree SHA does not exist"})
		return
	}
	for _, p := range in.Parents {
		if !hexSHA(p) || g.resolve(p) != p {
			validationFailed(w, fieldError{Resource: "Commit", Field: "parents", Code: "invalid", Message: "Parent SHA does not exist or is not a commit object"})
			return
		}
	}
	s.mu.Lock()
	login := s.actor(r).Login
	s.mu.Unlock()
	who := signature{Name: login, Email: login + "@users.noreply.github.com", When: time.Now().UTC()}
	if in.Author != nil && in.Author.Name != "" {
		who.Name, who.Email = in.Author.Name, in.Author.Email
	}
	sha, err := g.commitTree(in.Tree, in.Parents, in.Message, who)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	info, err := g.commitInfo(sha)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	full := rp.fullName()
	parents := []obj{}
	for _, p := range info.parents {
		parents = append(parents, obj{"sha": p, "url": s.api("/repos/%s/git/commits/%s", full, p), "html_url": s.api("/%s/commit/%s", full, p)})
	}
	pj := func(sg signature) obj { return obj{"name": sg.Name, "email": sg.Email, "date": ts(sg.When)} }
	writeJSON(w, http.StatusCreated, obj{
		"sha": sha, "node_id": nodeID("C", int64(len(sha))),
		"url": s.api("/repos/%s/git/commits/%s", full, sha), "html_url": s.api("/%s/commit/%s", full, sha),
		"author": pj(info.author), "committer": pj(info.committer), "message": info.message,
		"tree":         obj{"sha": info.tree, "url": s.api("/repos/%s/git/trees/%s", full, info.tree)},
		"parents":      parents,
		"verification": obj{"verified": false, "reason": "unsigned", "signature": nil, "payload": nil, "verified_at": nil},
	})
}

// refJSON describes a ref ("refs/heads/x") pointing at a commit.
func (s *Server) refJSON(rp *repo, ref, sha string) obj {
	full := rp.fullName()
	return obj{
		"ref": ref, "node_id": nodeID("REF", int64(len(ref))),
		"url":    s.api("/repos/%s/git/%s", full, ref),
		"object": obj{"type": "commit", "sha": sha, "url": s.api("/repos/%s/git/commits/%s", full, sha)},
	}
}

func (s *Server) getGitRef(w http.ResponseWriter, r *http.Request) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	ref := "refs/" + strings.TrimPrefix(param(r, "ref"), "refs/")
	sha := rp.git().resolve(ref)
	if sha == "" || !strings.HasPrefix(ref, "refs/heads/") && !strings.HasPrefix(ref, "refs/tags/") {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, s.refJSON(rp, ref, sha))
}

func (s *Server) createGitRef(w http.ResponseWriter, r *http.Request) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	var in struct{ Ref, SHA string }
	if !decodeBody(w, r, &in) {
		return
	}
	if !strings.HasPrefix(in.Ref, "refs/") || strings.Count(in.Ref, "/") < 2 {
		validationFailed(w, fieldError{Resource: "Reference", Field: "ref", Code: "invalid", Message: "Reference name must start with 'refs/' and have at least two slashes."})
		return
	}
	if _, err := rp.git().run(nil, "check-ref-format", in.Ref); err != nil {
		validationFailed(w, fieldError{Resource: "Reference", Field: "ref", Code: "invalid", Message: "Reference name is not valid"})
		return
	}
	s.gitMu.Lock()
	g := rp.git()
	if !hexSHA(in.SHA) || g.resolve(in.SHA) != in.SHA {
		s.gitMu.Unlock()
		validationFailed(w, fieldError{Resource: "Reference", Field: "sha", Code: "invalid", Message: "Object does not exist"})
		return
	}
	if g.resolve(in.Ref) != "" {
		s.gitMu.Unlock()
		validationFailed(w, fieldError{Resource: "Reference", Field: "ref", Code: "already_exists", Message: "Reference already exists"})
		return
	}
	err := g.updateRef(in.Ref, in.SHA, "")
	s.gitMu.Unlock()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if branch, ok := strings.CutPrefix(in.Ref, "refs/heads/"); ok {
		s.refMoved(r, rp, branch, "", in.SHA)
	}
	writeJSON(w, http.StatusCreated, s.refJSON(rp, in.Ref, in.SHA))
}

func (s *Server) updateGitRef(w http.ResponseWriter, r *http.Request) {
	rp := s.repoFor(w, r)
	if rp == nil {
		return
	}
	var in struct {
		SHA   string
		Force bool
	}
	if !decodeBody(w, r, &in) {
		return
	}
	ref := "refs/" + strings.TrimPrefix(param(r, "ref"), "refs/")
	s.gitMu.Lock()
	g := rp.git()
	before := g.resolve(ref)
	switch {
	case before == "":
		s.gitMu.Unlock()
		validationFailed(w, fieldError{Resource: "Reference", Field: "ref", Code: "invalid", Message: "Reference does not exist"})
		return
	case !hexSHA(in.SHA) || g.resolve(in.SHA) != in.SHA:
		s.gitMu.Unlock()
		validationFailed(w, fieldError{Resource: "Reference", Field: "sha", Code: "invalid", Message: "Object does not exist"})
		return
	case !in.Force && !g.isAncestor(before, in.SHA):
		s.gitMu.Unlock()
		validationFailed(w, fieldError{Resource: "Reference", Field: "sha", Code: "custom", Message: "Update is not a fast forward"})
		return
	}
	branch, isBranch := strings.CutPrefix(ref, "refs/heads/")
	if isBranch {
		s.mu.Lock()
		var blocked bool
		if branch == rp.defaultBranch || len(requiredContexts(rp, branch)) > 0 || mergeQueueFor(rp, branch) != nil {
			// A protected branch takes no force-push.
			blocked = in.Force && !g.isAncestor(before, in.SHA)
		}
		s.mu.Unlock()
		if blocked {
			s.gitMu.Unlock()
			validationFailed(w, fieldError{Resource: "Reference", Field: "sha", Code: "custom", Message: "Cannot force-update a protected branch"})
			return
		}
	}
	err := g.updateRef(ref, in.SHA, before)
	s.gitMu.Unlock()
	if err != nil {
		writeError(w, http.StatusConflict, "Reference update failed: "+err.Error())
		return
	}
	if isBranch {
		s.refMoved(r, rp, branch, before, in.SHA)
	}
	writeJSON(w, http.StatusOK, s.refJSON(rp, ref, in.SHA))
}

// refMoved announces a branch moved through the API, as a push does.
func (s *Server) refMoved(r *http.Request, rp *repo, branch, before, after string) {
	now := time.Now().UTC()
	s.mu.Lock()
	rp.pushedAt = now
	pusher := s.actor(r)
	s.mu.Unlock()
	s.emitPush(rp, branch, before, after, pusher)
	s.branchMoved(rp, branch, pusher)
	s.advanceAllQueues()
}

func (s *Server) updatePull(w http.ResponseWriter, r *http.Request) {
	rp, pr := s.pullFor(w, r)
	if pr == nil {
		return
	}
	var in struct {
		Title, Body, State *string
	}
	if !decodeBody(w, r, &in) {
		return
	}
	s.mu.Lock()
	by := s.actor(r)
	changes := obj{}
	if in.Title != nil && *in.Title != pr.title {
		changes["title"] = obj{"from": pr.title}
		pr.title = *in.Title
	}
	if in.Body != nil && *in.Body != pr.body {
		changes["body"] = obj{"from": pr.body}
		pr.body = *in.Body
	}
	pr.updatedAt = time.Now().UTC()
	s.mu.Unlock()
	if in.State != nil {
		state := *in.State
		s.mu.Lock()
		cur := pr.state
		s.mu.Unlock()
		if state != cur {
			if err := s.setPRState(rp.fullName(), pr.number, by.Login, state); err != nil {
				validationFailed(w, fieldError{Resource: "PullRequest", Field: "state", Code: "invalid", Message: err.Error()})
				return
			}
		}
	} else if len(changes) > 0 {
		s.emitPull(rp, pr, "edited", by, obj{"changes": changes})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, s.pullJSON(rp, pr))
}
