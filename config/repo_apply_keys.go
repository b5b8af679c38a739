package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// githubLogin is the shape of a GitHub user or organization login:
// letters, digits and hyphens, not starting with a hyphen, at most 39
// characters. Hyphen placement is not checked further: some old accounts
// have names GitHub no longer allows new accounts to take.
var githubLogin = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,38}$`)

// teamSlug is the shape of a team's slug (GitHub derives it from the
// team's name: lower-case letters, digits, '-' and '_').
var teamSlug = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_-]*$`)

// readAppliers reads appliers: a non-empty list of logins and
// team:org/slug entries, each checked for its form (whether the person or
// team exists is GitHub's to say, when someone applies).
func readAppliers(p *problems, f entry, at string, s *envState) {
	list, ok := p.strList(f.value, at)
	if !ok {
		return
	}
	if len(list) == 0 {
		p.add(f.line, "%s: empty list: leave appliers out to let everyone with write access apply, or name who may (logins, team:org/slug)", at)
		return
	}
	out := make([]Applier, 0, len(list))
	for i, item := range list {
		a, err := parseApplier(item)
		if err != nil {
			p.add(f.value.Content[i].Line, "%s[%d]: %v", at, i, err)
			continue
		}
		out = append(out, a)
	}
	s.env.Appliers = out
}

func parseApplier(s string) (Applier, error) {
	if team, ok := strings.CutPrefix(s, "team:"); ok {
		org, slug, ok := strings.Cut(team, "/")
		if !ok || !githubLogin.MatchString(org) || !teamSlug.MatchString(slug) {
			return Applier{}, fmt.Errorf("%q is not a team: want team:org/slug, like team:acme/platform", s)
		}
		return Applier{Org: org, Team: slug}, nil
	}
	switch {
	case strings.HasPrefix(s, "@"):
		return Applier{}, fmt.Errorf("%q: write the login without @", s)
	case strings.Contains(s, "/"):
		return Applier{}, fmt.Errorf("%q is not a GitHub login: write team:%s for a team", s, s)
	case !githubLogin.MatchString(s):
		return Applier{}, fmt.Errorf("%q is not a GitHub login (letters, digits and '-', at most 39 characters) or team:org/slug", s)
	}
	return Applier{Login: s}, nil
}

// readURL reads url: an absolute http or https URL.
func readURL(p *problems, f entry, at string, s *envState) {
	v, ok := p.str(f.value, at)
	if !ok {
		return
	}
	u, err := url.Parse(v)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		p.add(f.line, "%s: %q is not an http(s) URL (like https://staging.example.com)", at, v)
		return
	case u.User != nil:
		// GitHub shows environment_url to everyone who can read the repository.
		p.add(f.line, "%s: must not hold a user name or password", at)
		return
	}
	s.env.URL = v
}
