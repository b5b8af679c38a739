package web

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/kube"
)

//go:embed status.html.tmpl
var statusTemplate string

// html/template escapes every value by context (text, attribute, URL):
// repository names, commits and messages come from clusters and GitHub,
// where anyone with write access can put anything.
var statusPage = template.Must(template.New("status").Parse(statusTemplate))

// pageView is what the template renders.
type pageView struct {
	Title string
	// Repos shown; one for a repository's page.
	Repos []repoView
	// All is the page of every repository (links to each one's page).
	All      bool
	AsOf     string
	NotFound bool
}

type repoView struct {
	Name, URL, Page string
	Private         bool
	Envs            []envView
}

type envView struct {
	Name, Cluster, State, Problem string
	Commit, CommitURL             string
	PR                            int
	PRURL                         string
	When, Ago, By                 string
	Message                       string
	Lock                          string
	LockPR                        string // link to the lock holder's PR when it is one of this repository's
	Drift                         string
	DriftURL                      string
	Badge, BadgeMarkdown          string
	Deploys                       []deployView
	// Pin is "pinned at abc1234 by alice" (comments.PinText) when pinned;
	// PinSince when, RevertPR/RevertURL the revert whose merge unpins.
	Pin, PinSince string
	RevertPR      int
	RevertURL     string
}

type deployView struct {
	When, Outcome, Commit, CommitURL string
	PR                               int
	PRURL                            string
	What, LogURL                     string
}

// repoStatus answers /status/{owner}/{repo}: a private repository's page
// needs its token, and without it looks exactly like an unknown one.
func (h *Handler) repoStatus(w http.ResponseWriter, r *http.Request) {
	repo := r.PathValue("owner") + "/" + r.PathValue("repo")
	snap := h.o.Refresher.Snapshot()
	rs := snap.Repos[repoKey(repo)]
	if rs != nil && rs.Private && !tokenOK(r.URL.Query().Get("token"), StatusToken(h.o.BadgeKey, rs.Name)) {
		rs = nil
	}
	if rs == nil {
		h.render(w, r, http.StatusNotFound, pageView{Title: "Not found", NotFound: true, AsOf: asOf(snap)})
		return
	}
	h.render(w, r, http.StatusOK, pageView{Title: rs.Name, Repos: []repoView{h.repoView(rs, snap.Time)}, AsOf: asOf(snap)})
}

// allStatus answers /status: every repository (an admin page).
func (h *Handler) allStatus(w http.ResponseWriter, r *http.Request) {
	snap := h.o.Refresher.Snapshot()
	names := make([]string, 0, len(snap.Repos))
	for k := range snap.Repos {
		names = append(names, k)
	}
	sort.Strings(names)
	v := pageView{Title: "All repositories", All: true, AsOf: asOf(snap)}
	for _, k := range names {
		v.Repos = append(v.Repos, h.repoView(snap.Repos[k], snap.Time))
	}
	h.render(w, r, http.StatusOK, v)
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, v pageView) {
	var buf bytes.Buffer
	if err := statusPage.Execute(&buf, v); err != nil {
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("render the status page")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	serve(w, r, status, "text/html; charset=utf-8", buf.Bytes())
}

func asOf(s *Snapshot) string {
	if s.Time.IsZero() {
		return "not read yet"
	}
	return s.Time.UTC().Format("2006-01-02 15:04:05 UTC")
}

func (h *Handler) repoURL(rs *RepoState) string {
	if rs.HTMLURL != "" {
		return rs.HTMLURL
	}
	return h.o.WebURL + "/" + rs.Name
}

// pageURL is the repository's status page, with its token when private.
func (h *Handler) pageURL(rs *RepoState) string {
	u := h.o.PublicURL + "/status/" + rs.Name
	if rs.Private {
		u += "?token=" + StatusToken(h.o.BadgeKey, rs.Name)
	}
	return u
}

func (h *Handler) repoView(rs *RepoState, now time.Time) repoView {
	base := h.repoURL(rs)
	v := repoView{Name: rs.Name, URL: base, Private: rs.Private, Page: h.pageURL(rs)}
	for _, e := range rs.Envs {
		v.Envs = append(v.Envs, h.envView(rs, e, base, now))
	}
	return v
}

func (h *Handler) envView(rs *RepoState, e *EnvState, base string, now time.Time) envView {
	rec := e.Record
	v := envView{Name: e.Env, Cluster: e.Cluster, State: string(e.State), Problem: e.Problem, Message: rec.Message}
	if rec.Commit != "" {
		v.Commit, v.CommitURL = comments.ShortSHA(rec.Commit), base+"/commit/"+url.PathEscape(rec.Commit)
	}
	if rec.PR > 0 {
		v.PR, v.PRURL = rec.PR, base+"/pull/"+strconv.Itoa(rec.PR)
	}
	if !rec.Time.IsZero() {
		v.When, v.Ago = rec.Time.UTC().Format("2006-01-02 15:04 UTC"), ago(now, rec.Time)
	}
	v.By = triggerText(rec.Trigger, rec.PR)
	if d := matchDeployment(e.Deployments, kube.Deploy{Commit: rec.Commit, PR: rec.PR, Head: rec.Head}, nil); d != nil && d.Description != "" {
		v.By = d.Description
	}
	if p := e.Pin; p != nil {
		v.Pin = comments.PinText(comments.Pin{Env: e.Env, Commit: p.Commit, By: p.By, RevertPR: p.RevertPR})
		if !p.Time.IsZero() {
			v.PinSince = p.Time.UTC().Format("2006-01-02 15:04 UTC")
		}
		if p.RevertPR > 0 {
			v.RevertPR, v.RevertURL = p.RevertPR, base+"/pull/"+strconv.Itoa(p.RevertPR)
		}
	}
	if l := e.Lock; l != nil {
		v.Lock = l.Holder
		if l.By != "" {
			v.Lock += " (applied by " + l.By + ")"
		}
		if n, ok := prOf(l.Holder, rs.Name); ok {
			v.LockPR = base + "/pull/" + strconv.Itoa(n)
		}
	}
	switch d := e.Drift; d.State {
	case kube.DriftInSync:
		v.Drift = "in sync, checked " + ago(now, d.Time)
	case kube.DriftDrifted:
		v.Drift = fmt.Sprintf("%d %s from %s, checked %s", d.Objects, plural(d.Objects, "object differs", "objects differ"), comments.ShortSHA(d.Commit), ago(now, d.Time))
	case kube.DriftUnknown:
		v.Drift = "could not check, " + ago(now, d.Time)
	default:
		v.Drift = "not checked yet"
	}
	if e.Drift.Issue > 0 {
		v.DriftURL = base + "/issues/" + strconv.Itoa(e.Drift.Issue)
	}
	v.Badge = h.o.PublicURL + "/badges/" + rs.Name + "/" + e.Env + ".svg"
	if rs.Private {
		v.Badge += "?token=" + BadgeToken(h.o.BadgeKey, rs.Name, e.Env)
	}
	v.BadgeMarkdown = fmt.Sprintf("[![%s](%s)](%s)", e.Env, v.Badge, h.pageURL(rs))
	v.Deploys = deploysView(e, base)
	return v
}

// deploysView lists the last deploys: the record's history (what the
// cluster says ran), each with the GitHub Deployment that mirrors it (who
// and why, and the link to its check run); only Deployments when the
// record has no history yet.
func deploysView(e *EnvState, base string) []deployView {
	used := map[int64]bool{}
	var out []deployView
	link := func(sha string) string { return base + "/commit/" + url.PathEscape(sha) }
	for _, h := range e.Record.History {
		if len(out) == MaxDeploys {
			break
		}
		v := deployView{When: h.Time.UTC().Format("2006-01-02 15:04 UTC"), Outcome: string(h.Outcome),
			Commit: comments.ShortSHA(h.Commit), CommitURL: link(h.Commit), What: triggerText(h.Trigger, h.PR)}
		if h.PR > 0 {
			v.PR, v.PRURL = h.PR, base+"/pull/"+strconv.Itoa(h.PR)
		}
		if d := matchDeployment(e.Deployments, h, used); d != nil {
			used[d.ID] = true
			if d.Description != "" {
				v.What = d.Description
			}
			v.LogURL = d.LogURL
		}
		out = append(out, v)
	}
	if len(out) > 0 {
		return out
	}
	for _, d := range e.Deployments {
		if len(out) == MaxDeploys {
			break
		}
		commit := d.Commit
		if commit == "" {
			commit = d.SHA
		}
		v := deployView{When: d.Created.UTC().Format("2006-01-02 15:04 UTC"), Outcome: d.State,
			Commit: comments.ShortSHA(commit), CommitURL: link(commit), What: d.Description, LogURL: d.LogURL}
		if d.PR > 0 {
			v.PR, v.PRURL = d.PR, base+"/pull/"+strconv.Itoa(d.PR)
		}
		out = append(out, v)
	}
	return out
}

// matchDeployment finds the newest unused Deployment of deploy h: tugboat
// puts the applied commit and PR in its payload, and deploys the PR head
// (before merge) or the commit (after).
func matchDeployment(deps []Deployment, h kube.Deploy, used map[int64]bool) *Deployment {
	for i := range deps {
		d := &deps[i]
		if used[d.ID] {
			continue
		}
		if d.Commit != "" && d.Commit == h.Commit && d.PR == h.PR || d.Commit == "" && (d.SHA == h.Commit || h.Head != "" && d.SHA == h.Head) {
			return d
		}
	}
	return nil
}

// triggerText says what made a record when no Deployment says more.
func triggerText(trigger string, pr int) string {
	on := ""
	if pr > 0 {
		on = fmt.Sprintf(" of #%d", pr)
	}
	switch trigger {
	case kube.TriggerApply:
		return "apply" + on
	case kube.TriggerMerge:
		return "merge" + on
	case kube.TriggerClose:
		return "revert after #" + strconv.Itoa(pr) + " closed"
	case kube.TriggerHeal:
		return "drift heal"
	case kube.TriggerRecord:
		return "recorded (nothing to change)"
	case kube.TriggerRollback:
		return "break-glass rollback"
	}
	return trigger
}

// prOf reads a lock holder "owner/repo#N" of repo.
func prOf(holder, repo string) (int, bool) {
	i := strings.LastIndexByte(holder, '#')
	if i < 0 || repoKey(holder[:i]) != repoKey(repo) {
		return 0, false
	}
	n, err := strconv.Atoi(holder[i+1:])
	return n, err == nil && n > 0
}

// ago says how long before now t was, roughly.
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case t.IsZero():
		return "never"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
