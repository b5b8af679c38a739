package githubtest

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"
)

// The pages let a person watch and drive a pull request in a browser (the
// sandbox). They are not part of GitHub's REST API, so no contract applies.

//go:embed page.html.tmpl
var pageTemplate string

// pageRoutes registers the HTML pages and the form handlers behind them.
func (s *Server) pageRoutes(mux *http.ServeMux) {
	tmpl := template.Must(template.New("page").Funcs(template.FuncMap{
		"markdown": s.markdown,
		"time":     func(t time.Time) string { return t.Format("2006-01-02 15:04:05 UTC") },
		"short":    func(sha string) string { return sha[:min(7, len(sha))] },
		"latest":   func(d Deployment) DeploymentStatus { return d.Statuses[len(d.Statuses)-1] },
	}).Parse(pageTemplate))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { s.indexPage(w, tmpl) })
	mux.HandleFunc("GET /{owner}/{repo}/pull/{number}", func(w http.ResponseWriter, r *http.Request) { s.pullPage(w, r, tmpl) })
	mux.HandleFunc("POST /{owner}/{repo}/pull/{number}/{action}", s.pageAction)
	mux.HandleFunc("GET /{owner}/{repo}/runs/{id}", s.runPage)
	mux.HandleFunc("GET /{owner}/{repo}/issues/{number}", func(w http.ResponseWriter, r *http.Request) { s.issuePage(w, r, tmpl) })
	// Every browser asks for /favicon.ico with a page: it is the page's
	// request, not a client's call to GitHub's API, and must not be
	// recorded as a contract failure.
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
}

// runPage is a check run's html_url (and default details_url): it shows
// the run on the page of the pull request whose head it checked.
func (s *Server) runPage(w http.ResponseWriter, r *http.Request) {
	full := r.PathValue("owner") + "/" + r.PathValue("repo")
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	rp, err := s.repo(full)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range rp.checkRuns {
		if c.id != id {
			continue
		}
		for _, pr := range sortedPulls(rp) {
			if pr.headSHA == c.headSHA {
				http.Redirect(w, r, fmt.Sprintf("/%s/pull/%d#check-run-%d", full, pr.number, id), http.StatusFound)
				return
			}
		}
	}
	http.NotFound(w, r)
}

// markdown renders GitHub-flavored Markdown. Raw HTML is let through, as
// GitHub does for <details> and the like: the page is the emulator's own
// and the Markdown comes from the tests and the bot under test.
func (s *Server) markdown(src string) template.HTML {
	md := goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(html.WithUnsafe()))
	var buf bytes.Buffer
	if err := md.Convert([]byte(src), &buf); err != nil {
		return template.HTML("<pre>" + template.HTMLEscapeString(src) + "</pre>")
	}
	return template.HTML(buf.String())
}

type indexView struct {
	Repos []indexRepo
}

type indexRepo struct {
	Name   string
	Pulls  []pageLink
	Issues []pageLink
}

type pageLink struct {
	Number      int
	Title, Href string
	State       string
}

func (s *Server) indexPage(w http.ResponseWriter, tmpl *template.Template) {
	s.mu.Lock()
	var v indexView
	names := make([]string, 0, len(s.repos))
	for n := range s.repos {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		rp := s.repos[n]
		ir := indexRepo{Name: n}
		for _, pr := range sortedPulls(rp) {
			ir.Pulls = append(ir.Pulls, pageLink{Number: pr.number, Title: pr.title, State: pr.state,
				Href: "/" + n + "/pull/" + strconv.Itoa(pr.number)})
		}
		nums := make([]int, 0, len(rp.issues))
		for num := range rp.issues {
			nums = append(nums, num)
		}
		sort.Ints(nums)
		for _, num := range nums {
			is := rp.issues[num]
			ir.Issues = append(ir.Issues, pageLink{Number: num, Title: is.title, State: is.state,
				Href: "/" + n + "/issues/" + strconv.Itoa(num)})
		}
		v.Repos = append(v.Repos, ir)
	}
	s.mu.Unlock()
	render(w, tmpl, "index", v)
}

// pullView is everything the pull request page shows.
type pullView struct {
	Repo      string
	PR        PullRequest
	Body      string
	Mergeable string
	Comments  []Comment
	Checks    []CheckRun
	Statuses  []Status
	// MergeStatuses are those on the merge commit, once merged.
	MergeStatuses []Status
	// Deployments are those of the head (and of the merge commit once merged).
	Deployments []Deployment
	// UsesQueue: the base branch merges through a merge queue; Queued is
	// the pull request's position in it (0: not queued).
	UsesQueue bool
	Queued    int
	Users     []string
	Unmet     []string
	Error     string
}

func (s *Server) pullPage(w http.ResponseWriter, r *http.Request, tmpl *template.Template) {
	full := r.PathValue("owner") + "/" + r.PathValue("repo")
	n, _ := strconv.Atoi(r.PathValue("number"))
	rp, err := s.repo(full)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	pr, ok := rp.pulls[n]
	var unmet []string
	var deployments []Deployment
	usesQueue, queuedAt := false, 0
	if ok {
		unmet = s.unmetRequirements(rp, pr)
		for _, d := range rp.deployments {
			if d.sha == pr.headSHA || (pr.merged && d.sha == pr.mergeCommitSHA) {
				deployments = append(deployments, deploymentOf(d))
			}
		}
		usesQueue = mergeQueueFor(rp, pr.baseRef) != nil
		for i, e := range rp.queues[pr.baseRef] {
			if e.pr == pr {
				queuedAt = i + 1
			}
		}
	}
	var users []string
	for login, u := range s.users {
		if u.Type == "User" {
			users = append(users, login)
		}
	}
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	sort.Strings(users)
	v := pullView{Repo: full, Users: users, Unmet: unmet, Error: r.URL.Query().Get("error"),
		Deployments: deployments, UsesQueue: usesQueue, Queued: queuedAt}
	v.PR = s.PR(full, n)
	v.Mergeable = "computing"
	if v.PR.Mergeable != nil {
		v.Mergeable = strconv.FormatBool(*v.PR.Mergeable)
	}
	v.Comments = s.Comments(full, n)
	v.Checks = s.CheckRuns(full, v.PR.HeadSHA)
	v.Statuses = latestStatuses(s.Statuses(full, v.PR.HeadSHA))
	if v.PR.Merged {
		v.MergeStatuses = latestStatuses(s.Statuses(full, v.PR.MergeCommitSHA))
	}
	render(w, tmpl, "pull", v)
}

// latestStatuses keeps the latest status per context, newest first, as
// GitHub's merge box shows them.
func latestStatuses(all []Status) []Status {
	var out []Status
	seen := map[string]bool{}
	for i := len(all) - 1; i >= 0; i-- {
		if !seen[all[i].Context] {
			seen[all[i].Context] = true
			out = append(out, all[i])
		}
	}
	return out
}

func render(w http.ResponseWriter, tmpl *template.Template, name string, v any) {
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, name, v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

// pageAction handles the page's forms: comment, review, merge, enqueue
// (merge when ready, for a branch with a merge queue), action.
// Each does what the person would do on GitHub, webhooks included, then
// returns to the page (with the error, if GitHub would have refused).
func (s *Server) pageAction(w http.ResponseWriter, r *http.Request) {
	full := r.PathValue("owner") + "/" + r.PathValue("repo")
	n, _ := strconv.Atoi(r.PathValue("number"))
	back := "/" + full + "/pull/" + strconv.Itoa(n)
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	user := r.PostFormValue("user")
	if user == "" {
		http.Redirect(w, r, back+"?error="+template.URLQueryEscaper("choose who you are"), http.StatusSeeOther)
		return
	}
	var err error
	switch r.PathValue("action") {
	case "comment":
		err = s.pageComment(full, n, user, r.PostFormValue("body"))
	case "review":
		err = s.pageReview(full, n, user, r.PostFormValue("state"), r.PostFormValue("body"))
	case "merge":
		_, err = s.mergePR(full, n, user, r.PostFormValue("method"), "", "", "")
	case "enqueue":
		err = s.enqueue(full, n, user, "")
	case "action":
		id, _ := strconv.ParseInt(r.PostFormValue("check_run"), 10, 64)
		err = s.requestAction(full, id, r.PostFormValue("identifier"), user)
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Redirect(w, r, back+"?error="+template.URLQueryEscaper(err.Error()), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

func (s *Server) pageComment(full string, n int, login, body string) error {
	if body == "" {
		return errEmptyComment
	}
	if e := tooLong("IssueComment", "body", body, maxCommentBody); e != nil {
		return errTooLong
	}
	rp, err := s.repo(full)
	if err != nil {
		return err
	}
	s.mu.Lock()
	u := s.userLocked(login, "User")
	s.mu.Unlock()
	_, err = s.addComment(rp, n, u, body)
	return err
}

func (s *Server) pageReview(full string, n int, login, state, body string) error {
	switch state {
	case "APPROVED", "CHANGES_REQUESTED", "COMMENTED":
	default:
		return errUnknownReview
	}
	rp, pr, u, err := s.pullAndUser(full, n, login)
	if err != nil {
		return err
	}
	if u == pr.author && state != "COMMENTED" {
		return errOwnPR
	}
	s.addReview(rp, pr, u, state, body, "")
	return nil
}

// issueView is what the issue page shows.
type issueView struct {
	Repo     string
	Issue    Issue
	Comments []Comment
}

// issuePage is an issue's html_url: its title, state, labels, body and
// comments (tugboat's drift issues are read there in the sandbox).
func (s *Server) issuePage(w http.ResponseWriter, r *http.Request, tmpl *template.Template) {
	full := r.PathValue("owner") + "/" + r.PathValue("repo")
	n, _ := strconv.Atoi(r.PathValue("number"))
	if _, err := s.repo(full); err != nil {
		http.NotFound(w, r)
		return
	}
	for _, is := range s.Issues(full) {
		if is.Number == n {
			render(w, tmpl, "issue", issueView{Repo: full, Issue: is, Comments: s.Comments(full, n)})
			return
		}
	}
	http.NotFound(w, r)
}
