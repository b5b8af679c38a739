package main

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/web"
)

// pages is the badges and status pages: their handler, and the refresher
// serve runs in the background.
type pages struct {
	handler   *web.Handler
	refresher *web.Refresher
}

// wirePages builds the badges and status pages over the clusters and
// GitHub (web reads both through interfaces of its own, implemented here).
func wirePages(cfg *config.Server, factory *gh.Factory, clusters *kube.Registry, digestKey []byte) *pages {
	ref := &web.Refresher{
		Clusters: kubeRecords{clusters},
		GitHub:   &ghPages{factory: factory, clients: map[string]*gh.Client{}},
		Interval: cfg.Web.RefreshInterval(),
	}
	h := web.New(web.Options{Refresher: ref, BadgeKey: web.BadgeKey(digestKey), PublicURL: cfg.PublicURL, WebURL: cfg.GitHub.WebURL})
	return &pages{handler: h, refresher: ref}
}

// mount adds the badges and per-repository pages to the public routes,
// and every repository's status to the admin routes.
func (p *pages) mount(rt routes, statusToken string) {
	pub := p.handler.Public()
	rt.public.Handle("GET /badges/", pub)
	rt.public.Handle("GET /status/", pub)
	// Every repository's status is the operator's: on the admin listener,
	// and on the public one only behind web.status_token (for setups
	// without an admin listener).
	rt.admin.Handle(web.AllStatusRoute, p.handler.Admin())
	rt.public.Handle(web.AllStatusRoute, web.RequireToken(statusToken, p.handler.Admin()))
}

// kubeRecords is web.Clusters over the cluster registry.
type kubeRecords struct{ r *kube.Registry }

func (k kubeRecords) Names() []string { return k.r.Names() }

func (k kubeRecords) Records(ctx context.Context, cluster string) ([]kube.ApplySetRecord, error) {
	c, err := k.r.Cluster(cluster)
	if err != nil {
		return nil, err
	}
	return kube.ListRecords(ctx, c)
}

func (k kubeRecords) Locks(ctx context.Context, cluster string) (map[kube.ApplySet]kube.LockInfo, error) {
	c, err := k.r.Cluster(cluster)
	if err != nil {
		return nil, err
	}
	return kube.ListLocks(ctx, c)
}

// ghPages is web.GitHub over package gh: each repository read as the
// installation it belongs to (found once, then kept).
type ghPages struct {
	factory *gh.Factory
	mu      sync.Mutex
	clients map[string]*gh.Client
}

func (g *ghPages) client(ctx context.Context, repo string) (*gh.Client, gh.Repo, error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok {
		return nil, gh.Repo{}, fmt.Errorf("repository %q is not owner/name", repo)
	}
	r := gh.Repo{Owner: owner, Name: name}
	key := strings.ToLower(repo)
	g.mu.Lock()
	c := g.clients[key]
	g.mu.Unlock()
	if c != nil {
		return c, r, nil
	}
	c, err := g.factory.ForRepo(ctx, r)
	if err != nil {
		return nil, r, err
	}
	g.mu.Lock()
	g.clients[key] = c
	g.mu.Unlock()
	return c, r, nil
}

func (g *ghPages) Repository(ctx context.Context, repo string) (web.RepoInfo, error) {
	c, r, err := g.client(ctx, repo)
	if err != nil {
		return web.RepoInfo{}, err
	}
	info, err := c.Repository(ctx, r)
	if err != nil {
		return web.RepoInfo{}, err
	}
	return web.RepoInfo{Private: info.Private, HTMLURL: info.HTMLURL}, nil
}

func (g *ghPages) Deployments(ctx context.Context, repo, env string, limit int) ([]web.Deployment, error) {
	c, r, err := g.client(ctx, repo)
	if err != nil {
		return nil, err
	}
	recent, err := c.RecentDeployments(ctx, r, env, limit)
	if err != nil {
		return nil, err
	}
	out := make([]web.Deployment, len(recent))
	for i, d := range recent {
		out[i] = web.Deployment{ID: d.ID, SHA: d.SHA, Commit: d.Commit, PR: d.PR, Description: d.Description,
			State: d.State, Creator: d.Creator, Created: d.Created, LogURL: d.LogURL}
	}
	return out, nil
}
