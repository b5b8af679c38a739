package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"regexp"
	"slices"
	"strings"
)

// remoteRepo is the repository a checkout's git remote names.
type remoteRepo struct {
	Name   string // owner/name
	Remote string // the git remote it came from
}

// remotePreference is the order in which gh picks a checkout's repository
// among its remotes: upstream first, so that a fork's clone (origin = the
// fork) still names the repository the bot serves.
var remotePreference = []string{"upstream", "github", "origin"}

// inferRepoName names the repository of the checkout at dir from its git
// remotes, as gh does: a remote marked by `gh repo set-default`
// (remote.NAME.gh-resolved) wins, then upstream, github, origin; remotes of
// other names are taken only when they all name the same repository: a
// wrong guess would select another repository's ApplySet, so an ambiguous
// checkout gets an error asking for --repo-name instead.
//
// It asks git (`git remote -v`, as gh does) rather than reading
// .git/config: git finds the repository from a subdirectory or a linked
// worktree (where .git is a file), follows config includes and applies
// url.<base>.insteadOf rewrites, none of which a reader of one file would.
func inferRepoName(ctx context.Context, dir string) (remoteRepo, error) {
	out, err := git(ctx, dir, "remote", "-v")
	if err != nil {
		return remoteRepo{}, err
	}
	var names []string
	repos := map[string]string{} // remote → owner/name
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		// "NAME\tURL (fetch)"; push URLs may differ and do not say where
		// the repository lives.
		remote, rest, ok := strings.Cut(sc.Text(), "\t")
		u, ok2 := strings.CutSuffix(rest, " (fetch)")
		if !ok || !ok2 {
			continue
		}
		names = append(names, remote)
		if name, ok := repoFromURL(u); ok {
			repos[remote] = name
		}
	}
	if len(names) == 0 {
		return remoteRepo{}, errors.New("the checkout has no git remote")
	}
	if r, ok := ghResolved(ctx, dir, repos); ok {
		return r, nil
	}
	for _, remote := range remotePreference {
		if name, ok := repos[remote]; ok {
			return remoteRepo{Name: name, Remote: remote}, nil
		}
	}
	if len(repos) == 0 {
		return remoteRepo{}, fmt.Errorf("no git remote (%s) has a GitHub-style owner/name URL", strings.Join(names, ", "))
	}
	others := make([]string, 0, len(repos))
	distinct := map[string]bool{}
	for remote, name := range repos {
		others = append(others, remote)
		distinct[name] = true
	}
	slices.Sort(others)
	if len(distinct) == 1 {
		return remoteRepo{Name: repos[others[0]], Remote: others[0]}, nil
	}
	return remoteRepo{}, fmt.Errorf("git remotes %s name different repositories and none is called upstream or origin", strings.Join(others, ", "))
}

// ghResolved is the repository `gh repo set-default` chose, recorded as
// remote.NAME.gh-resolved: "base" for that remote's own repository, or an
// owner/name.
func ghResolved(ctx context.Context, dir string, repos map[string]string) (remoteRepo, bool) {
	out, err := git(ctx, dir, "config", "--get-regexp", `^remote\..*\.gh-resolved$`)
	if err != nil { // exit status 1: no such setting
		return remoteRepo{}, false
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		key, value, _ := strings.Cut(sc.Text(), " ")
		remote := strings.TrimSuffix(strings.TrimPrefix(key, "remote."), ".gh-resolved")
		name, ok := repos[remote]
		if !ok {
			continue
		}
		if value != "base" {
			if !validRepoName(value) {
				continue
			}
			name = value
		}
		return remoteRepo{Name: name, Remote: remote}, true
	}
	return remoteRepo{}, false
}

// git runs git in dir and returns its standard output; failures carry
// git's own message ("not a git repository", ...).
func git(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return nil, fmt.Errorf("git %s: %s", args[0], firstLine(msg))
		}
		return nil, fmt.Errorf("git %s: %w", args[0], err)
	}
	return out, nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// repoFromURL is the owner/name a remote URL names: https://host/o/n(.git),
// ssh://[user@]host[:port]/o/n(.git), git://host/o/n, or git's scp-like
// [user@]host:o/n(.git). Local paths and file:// URLs name no repository.
func repoFromURL(raw string) (string, bool) {
	var path string
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return "", false
		}
		switch u.Scheme {
		case "https", "http", "ssh", "git", "git+ssh", "ssh+git":
		default:
			return "", false
		}
		path = u.Path
	} else {
		// git reads host:path as scp-like only when the colon comes before
		// any slash; otherwise it is a local path.
		colon := strings.IndexByte(raw, ':')
		if colon <= 0 || strings.Contains(raw[:colon], "/") {
			return "", false
		}
		path = raw[colon+1:]
	}
	path = strings.TrimSuffix(strings.Trim(path, "/"), ".git")
	if !validRepoName(path) {
		return "", false
	}
	return path, true
}

var repoNamePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)

// validRepoName reports whether s is owner/name in the characters GitHub
// allows.
func validRepoName(s string) bool {
	if !repoNamePattern.MatchString(s) {
		return false
	}
	owner, name, _ := strings.Cut(s, "/")
	return owner != "." && owner != ".." && name != "." && name != ".."
}
