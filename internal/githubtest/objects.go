package githubtest

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The builders below render state as GitHub's JSON. Each object carries
// exactly the fields of the webhook schema's definition (which forbids any
// other) and these are a superset of what the REST description requires,
// so one builder serves both. Callers hold s.mu.

type obj = map[string]any

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func tsPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ts(*t)
}

// nodeID makes a GraphQL node id for an object; parseNodeID reverses it.
func nodeID(kind string, id int64) string {
	return kind + "_" + base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10)))
}

func parseNodeID(n string) (kind string, id int64, ok bool) {
	kind, enc, found := strings.Cut(n, "_")
	if !found {
		return "", 0, false
	}
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return "", 0, false
	}
	id, err = strconv.ParseInt(string(b), 10, 64)
	return kind, id, err == nil
}

func (s *Server) api(format string, args ...any) string {
	return s.http.URL + fmt.Sprintf(format, args...)
}

func (s *Server) userJSON(u *User) obj {
	api := s.api("/users/%s", u.Login)
	return obj{
		"login": u.Login, "id": u.ID, "node_id": nodeID("U", u.ID),
		"avatar_url":  s.api("/avatars/%s", u.Login),
		"gravatar_id": "",
		"url":         api, "html_url": s.api("/%s", u.Login),
		"followers_url":       api + "/followers",
		"following_url":       api + "/following{/other_user}",
		"gists_url":           api + "/gists{/gist_id}",
		"starred_url":         api + "/starred{/owner}{/repo}",
		"subscriptions_url":   api + "/subscriptions",
		"organizations_url":   api + "/orgs",
		"repos_url":           api + "/repos",
		"events_url":          api + "/events{/privacy}",
		"received_events_url": api + "/received_events",
		"type":                u.Type,
		"site_admin":          false,
	}
}

func (s *Server) repoJSON(r *repo) obj {
	full := r.fullName()
	api := s.api("/repos/%s", full)
	visibility := "public"
	if r.private {
		visibility = "private"
	}
	open := 0
	for _, is := range r.issues {
		if is.state == "open" {
			open++
		}
	}
	for _, pr := range r.pulls {
		if pr.state == "open" {
			open++
		}
	}
	o := obj{
		"id": r.id, "node_id": nodeID("R", r.id), "name": r.name, "full_name": full,
		"private": r.private, "owner": s.userJSON(r.owner),
		"html_url": s.api("/%s", full), "description": nil, "fork": r.fork != nil, "url": api,
		"forks_url":         api + "/forks",
		"keys_url":          api + "/keys{/key_id}",
		"collaborators_url": api + "/collaborators{/collaborator}",
		"teams_url":         api + "/teams",
		"hooks_url":         api + "/hooks",
		"issue_events_url":  api + "/issues/events{/number}",
		"events_url":        api + "/events",
		"assignees_url":     api + "/assignees{/user}",
		"branches_url":      api + "/branches{/branch}",
		"tags_url":          api + "/tags",
		"blobs_url":         api + "/git/blobs{/sha}",
		"git_tags_url":      api + "/git/tags{/sha}",
		"git_refs_url":      api + "/git/refs{/sha}",
		"trees_url":         api + "/git/trees{/sha}",
		"statuses_url":      api + "/statuses/{sha}",
		"languages_url":     api + "/languages",
		"stargazers_url":    api + "/stargazers",
		"contributors_url":  api + "/contributors",
		"subscribers_url":   api + "/subscribers",
		"subscription_url":  api + "/subscription",
		"commits_url":       api + "/commits{/sha}",
		"git_commits_url":   api + "/git/commits{/sha}",
		"comments_url":      api + "/comments{/number}",
		"issue_comment_url": api + "/issues/comments{/number}",
		"contents_url":      api + "/contents/{+path}",
		"compare_url":       api + "/compare/{base}...{head}",
		"merges_url":        api + "/merges",
		"archive_url":       api + "/{archive_format}{/ref}",
		"downloads_url":     api + "/downloads",
		"issues_url":        api + "/issues{/number}",
		"pulls_url":         api + "/pulls{/number}",
		"milestones_url":    api + "/milestones{/number}",
		"notifications_url": api + "/notifications{?since,all,participating}",
		"labels_url":        api + "/labels{/name}",
		"releases_url":      api + "/releases{/id}",
		"deployments_url":   api + "/deployments",
		"created_at":        ts(r.createdAt), "updated_at": ts(r.pushedAt), "pushed_at": ts(r.pushedAt),
		"git_url":   "git://" + strings.TrimPrefix(s.api("/%s.git", full), "http://"),
		"ssh_url":   "git@localhost:" + full + ".git",
		"clone_url": s.api("/%s.git", full),
		"svn_url":   s.api("/%s", full),
		"homepage":  nil, "size": 1, "stargazers_count": 0, "watchers_count": 0, "language": nil,
		"has_issues": true, "has_projects": false, "has_downloads": true, "has_wiki": false, "has_pages": false,
		"forks_count": 0, "mirror_url": nil, "archived": false, "disabled": false,
		"open_issues_count": open, "license": nil, "forks": 0, "open_issues": open, "watchers": 0,
		"default_branch": r.defaultBranch, "is_template": false, "web_commit_signoff_required": false,
		"topics": []string{}, "visibility": visibility, "custom_properties": obj{},
	}
	return o
}

// installationJSON is the full installation object (REST and installation events).
func (s *Server) installationJSON(inst *Installation) obj {
	selection := "all"
	if len(inst.Repos) > 0 {
		selection = "selected"
	}
	return obj{
		"id": inst.ID, "app_id": s.app.ID, "app_slug": s.app.Slug,
		"target_id": inst.Account.ID, "target_type": inst.Account.Type,
		"account":              s.userJSON(inst.Account),
		"repository_selection": selection,
		"access_tokens_url":    s.api("/app/installations/%d/access_tokens", inst.ID),
		"repositories_url":     s.api("/installation/repositories"),
		"html_url":             s.api("/settings/installations/%d", inst.ID),
		"permissions":          permissionsOf(inst),
		"events":               appEventsOf(s.app),
		"created_at":           ts(inst.CreatedAt), "updated_at": ts(inst.CreatedAt),
		"single_file_name": nil, "suspended_by": nil, "suspended_at": nil,
	}
}

func appEvents() []string {
	return []string{"check_run", "check_suite", "issue_comment", "merge_group", "pull_request", "pull_request_review", "push"}
}

// appEventsOf is what a subscribes to: its manifest's events when it was
// registered from one.
func appEventsOf(a *App) []string {
	if a.registered != nil {
		return append([]string{}, a.registered.events...)
	}
	return appEvents()
}

// appJSON is the app ("integration") object.
func (s *Server) appJSON() obj { return s.appJSONOf(s.app) }

// appJSONOf is an app object: tugboat's, or another app's (a CI system
// whose check runs AddCheckRun records).
func (s *Server) appJSONOf(a *App) obj {
	owner := s.userJSON(&User{ID: 1, Login: "tugboatops", Type: "Organization"})
	description, homepage, permissions := "Operations by pull request for Kubernetes", s.api("/"), appPermissions()
	switch {
	case a.registered != nil:
		owner, description, homepage = s.userJSON(a.registered.owner), a.registered.description, a.registered.homepage
		permissions = obj{}
		for k, v := range a.registered.permissions {
			permissions[k] = v
		}
	case a != s.app:
		owner = s.userJSON(&User{ID: a.ID + 1, Login: a.Slug, Type: "Organization"})
		description = "Another GitHub App"
	}
	return obj{
		"id": a.ID, "slug": a.Slug, "node_id": nodeID("A", a.ID), "owner": owner,
		"name": a.Name, "description": description,
		"external_url": homepage, "html_url": s.api("/apps/%s", a.Slug),
		"created_at": ts(time.Unix(1700000000, 0)), "updated_at": ts(time.Unix(1700000000, 0)),
		"permissions": permissions, "events": appEventsOf(a),
	}
}

func reactionRollup(url string, rs []*reaction) obj {
	o := obj{"url": url, "total_count": len(rs)}
	for _, c := range []string{"+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket"} {
		o[c] = 0
	}
	for _, r := range rs {
		o[r.content] = o[r.content].(int) + 1
	}
	return o
}

// association is author_association of login in r.
func (s *Server) association(r *repo, u *User) string {
	switch {
	case u.Login == r.owner.Login:
		return "OWNER"
	case r.permissions[u.Login] != "" && r.permissions[u.Login] != "none":
		return "COLLABORATOR"
	case u.Type == "Bot":
		return "NONE"
	}
	return "CONTRIBUTOR"
}
