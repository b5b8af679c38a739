package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/kube"
)

// historyGH reads what GitHub adds to an environment's history, as the
// installation of the app on the repository.
type historyGH struct {
	client *gh.Client
	repo   gh.Repo
}

// githubFacts is what GitHub says of each deploy of a record's history
// (same indexes): who made it, and marks such as "promotion".
type githubFacts struct {
	who   []string
	marks [][]string
}

// historyGitHub connects to GitHub with the server config's GitHub App
// settings (environment variables included, as for `bot serve`). Without
// them, or when they do not work, it returns nil and why, for the
// command to say: the record alone is still listed.
func historyGitHub(ctx context.Context, cfgPath, repoName string) (*historyGH, string) {
	s, err := config.LoadServer(cfgPath)
	if err != nil {
		return nil, err.Error()
	}
	if s.GitHub.App.IntegrationID == 0 && os.Getenv("GITHUB_APP_INTEGRATION_ID") == "" {
		return nil, "give --config the server config `bot serve` runs with (its github: section, with the app's integration_id and private key)"
	}
	s, err = config.LoadServerApp(cfgPath)
	if err != nil {
		return nil, "--config's GitHub App settings do not load: " + err.Error()
	}
	owner, name, _ := strings.Cut(repoName, "/")
	repo := gh.Repo{Owner: owner, Name: name}
	g := s.GitHub
	creator := githubapp.NewClientCreator(g.V3APIURL, g.V4APIURL, g.App.IntegrationID, []byte(g.App.PrivateKey),
		githubapp.WithClientUserAgent("tugboat"),
		githubapp.WithClientTimeout(time.Minute),
		githubapp.WithClientMiddleware(gh.Middleware(gh.RetryPolicy{}, gh.NewMetrics(prometheus.NewRegistry()))))
	c, err := (&gh.Factory{Creator: creator}).ForRepo(ctx, repo)
	if err != nil {
		return nil, "GitHub did not answer as the app's installation on " + repoName + ": " + err.Error()
	}
	return &historyGH{client: c, repo: repo}, ""
}

// facts reads the environment's newest Deployments and the pull requests
// of hist, and says of each deploy who made it and how it is marked.
// Who: the person the Deployment's description names ("/apply by alice",
// "break-glass rollback by erin"), the merger of a merged pull request for
// a merge deploy, else the Deployment's creator (the app).
func (g *historyGH) facts(ctx context.Context, env string, hist []kube.Deploy) (*githubFacts, error) {
	// Heals and other deploys also make Deployments: read some more than
	// the history holds, so each deploy finds its own.
	deps, err := g.client.RecentDeployments(ctx, g.repo, env, 2*kube.MaxHistory)
	if err != nil {
		return nil, err
	}
	prs := map[int]*gh.PullRequest{}
	pr := func(n int) (*gh.PullRequest, error) {
		if p, ok := prs[n]; ok {
			return p, nil
		}
		p, err := g.client.PullRequest(ctx, g.repo, n, gh.MergeablePolicy{Timeout: 5 * time.Second})
		if gh.IsNotFound(err) {
			p, err = nil, nil
		}
		if err != nil {
			return nil, err
		}
		prs[n] = p
		return p, nil
	}
	f := &githubFacts{who: make([]string, len(hist)), marks: make([][]string, len(hist))}
	used := map[int64]bool{}
	for i, d := range hist {
		dep := matchRecent(deps, d, used)
		if dep != nil {
			used[dep.ID] = true
			f.who[i] = actorOf(dep.Description)
		}
		var p *gh.PullRequest
		if d.PR > 0 {
			if p, err = pr(d.PR); err != nil {
				return nil, err
			}
		}
		if f.who[i] == "" && p != nil && d.Trigger == kube.TriggerMerge {
			f.who[i] = p.MergedBy
		}
		if f.who[i] == "" && dep != nil {
			f.who[i] = dep.Creator
		}
		if p != nil {
			f.marks[i] = prMarks(p)
		}
	}
	return f, nil
}

// matchRecent finds the newest unused Deployment of deploy d: tugboat puts
// the applied commit and PR in the payload, and deploys the PR's head
// (before merge) or the commit (after). The status page matches the same
// way (web.matchDeployment, over web's own Deployment type).
func matchRecent(deps []gh.RecentDeployment, d kube.Deploy, used map[int64]bool) *gh.RecentDeployment {
	for i := range deps {
		r := &deps[i]
		if used[r.ID] {
			continue
		}
		if r.Commit != "" && r.Commit == d.Commit && r.PR == d.PR || r.Commit == "" && (r.SHA == d.Commit || d.Head != "" && r.SHA == d.Head) {
			return r
		}
	}
	return nil
}

// actorOf reads the login a Deployment's description names after " by "
// (comments.DeploymentDescription writes "/apply by alice on #7 at …");
// GitHub logins hold no spaces.
func actorOf(desc string) string {
	_, rest, ok := strings.Cut(desc, " by ")
	if !ok {
		return ""
	}
	login, _, _ := strings.Cut(rest, " ")
	return strings.TrimSuffix(login, ":")
}

// revertBranch is GitHub's branch name for a pull request's revert
// ("revert-42-feature"), which /rollback opens.
var revertBranch = regexp.MustCompile(`^revert-(\d+)-`)

// prMarks marks a promotion PR (its branch is tugboat's promotion branch,
// comments.PromotionBranch) and a revert PR (a rollback by pull request).
func prMarks(p *gh.PullRequest) []string {
	if comments.IsPromotionBranch(p.HeadRef) {
		return []string{"promotion"}
	}
	if m := revertBranch.FindStringSubmatch(p.HeadRef); m != nil {
		n, _ := strconv.Atoi(m[1])
		return []string{fmt.Sprintf("rollback (revert of #%d)", n)}
	}
	return nil
}
