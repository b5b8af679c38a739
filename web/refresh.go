package web

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/kube"
)

// Defaults of Refresher.
const (
	DefaultRefreshInterval = 15 * time.Second
	// DefaultVisibilityTTL: how long a repository's visibility is trusted.
	// A repository made private shows its badges without a token for at
	// most this long.
	DefaultVisibilityTTL = 5 * time.Minute
	// DefaultDeploymentsTTL: how long an environment's Deployments are
	// kept when its record has not changed (a change reads them at once).
	DefaultDeploymentsTTL = 10 * time.Minute
	// clusterTimeout bounds one cluster's reads in a refresh: a cluster
	// that hangs must not hold the others' news back.
	clusterTimeout = 10 * time.Second
	// githubTimeout bounds one GitHub read in a refresh.
	githubTimeout = 20 * time.Second
	// githubRetry spaces the reads GitHub failed: a repository the app is
	// no longer installed on must not cost a request every refresh.
	githubRetry = time.Minute
	// firstVisibilityRetry is the wait after a repository's first failed
	// visibility read, doubled on each failure after it up to githubRetry:
	// a repository whose records appeared just before the App was installed
	// on it (a deploy with `bot apply`, then the install) shows its badges
	// within a refresh or two, not after a minute.
	firstVisibilityRetry = 10 * time.Second
	// MaxDeploys is how many deploys the status page lists.
	MaxDeploys = 10
)

// Refresher keeps the snapshot the pages are served from. Run refreshes it
// every Interval; requests only read the last snapshot, so their cost does
// not depend on the clusters or GitHub, and a flood of badge requests
// reaches neither.
type Refresher struct {
	Clusters Clusters
	GitHub   GitHub
	// Interval between refreshes (DefaultRefreshInterval when zero).
	Interval time.Duration
	// VisibilityTTL and DeploymentsTTL: see the defaults.
	VisibilityTTL, DeploymentsTTL time.Duration
	// Now is the clock (time.Now when nil), for tests.
	Now func() time.Time

	snap atomic.Pointer[Snapshot]

	mu sync.Mutex // one refresh at a time; guards what follows
	// down: since when each cluster has not answered.
	down   map[string]time.Time
	repos  map[string]repoCache
	deploy map[string]deployCache
}

type repoCache struct {
	info RepoInfo
	at   time.Time
	// fails counts the failed reads since the last good one.
	fails int
}

type deployCache struct {
	// of is the record the deployments were read for.
	of   string
	deps []Deployment
	at   time.Time
}

// Snapshot returns the last snapshot: empty (not nil) before the first
// refresh.
func (r *Refresher) Snapshot() *Snapshot {
	if s := r.snap.Load(); s != nil {
		return s
	}
	return &Snapshot{Repos: map[string]*RepoState{}}
}

// Run refreshes now and then every Interval until ctx ends.
func (r *Refresher) Run(ctx context.Context) {
	interval := r.Interval
	if interval <= 0 {
		interval = DefaultRefreshInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		r.Refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *Refresher) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Refresh reads every cluster's records (and locks), then what GitHub
// knows that is not cached, and replaces the snapshot. A cluster that does
// not answer keeps its environments from the last snapshot, shown unknown.
func (r *Refresher) Refresh(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down == nil {
		r.down, r.repos, r.deploy = map[string]time.Time{}, map[string]repoCache{}, map[string]deployCache{}
	}
	prev := r.snap.Load()
	names := r.Clusters.Names()
	results := make([][]*EnvState, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = r.readCluster(ctx, name)
		}()
	}
	wg.Wait()

	now := r.now()
	byKey := map[string]*EnvState{}
	add := func(e *EnvState) {
		k := repoKey(e.Repo) + "/" + e.Env
		// An environment moved to another cluster leaves its old parent
		// behind: the newest record is the one that counts.
		if old := byKey[k]; old == nil || e.Record.Time.After(old.Record.Time) {
			byKey[k] = e
		}
	}
	for i, name := range names {
		if errs[i] == nil {
			delete(r.down, name)
			for _, e := range results[i] {
				add(e)
			}
			continue
		}
		since, ok := r.down[name]
		if !ok {
			since, r.down[name] = now, now
		}
		zerolog.Ctx(ctx).Warn().Err(errs[i]).Str("cluster", name).Msg("status pages: cluster did not answer; its environments show unknown")
		for _, e := range prev.envsOf(name) {
			c := *e
			c.State = StateUnknown
			c.Problem = fmt.Sprintf("cluster %s has not answered since %s", name, since.UTC().Format(time.RFC3339))
			add(&c)
		}
	}

	snap := &Snapshot{Time: now, Repos: map[string]*RepoState{}}
	for _, e := range byKey {
		k := repoKey(e.Repo)
		rs := snap.Repos[k]
		if rs == nil {
			info := r.repoInfo(ctx, e.Repo, now)
			rs = &RepoState{Name: e.Repo, Private: info.Private, HTMLURL: info.HTMLURL}
			snap.Repos[k] = rs
		}
		e.Deployments = r.deployments(ctx, e, now)
		rs.Envs = append(rs.Envs, e)
	}
	for _, rs := range snap.Repos {
		sort.Slice(rs.Envs, func(i, j int) bool { return rs.Envs[i].Env < rs.Envs[j].Env })
	}
	r.snap.Store(snap)
}

// readCluster reads one cluster's records and locks: two requests.
func (r *Refresher) readCluster(ctx context.Context, name string) ([]*EnvState, error) {
	ctx, cancel := context.WithTimeout(ctx, clusterTimeout)
	defer cancel()
	recs, err := r.Clusters.Records(ctx, name)
	if err != nil {
		return nil, err
	}
	locks, err := r.Clusters.Locks(ctx, name)
	if err != nil {
		// Locks are a detail of the page; the records still count.
		zerolog.Ctx(ctx).Warn().Err(err).Str("cluster", name).Msg("status pages: could not list the locks")
	}
	now := r.now()
	out := make([]*EnvState, 0, len(recs))
	for _, rec := range recs {
		e := &EnvState{Repo: rec.Set.Repo, Env: rec.Set.Env, Cluster: name, Record: rec.Record, Pin: rec.Pin, ReadAt: now}
		if driftApplies(rec.Record, rec.Drift) {
			e.Drift = rec.Drift
		}
		e.State = stateOf(rec.Record, rec.Drift, rec.Pin, true)
		if e.State == StateUnknown && e.Drift.State == kube.DriftUnknown {
			e.Problem = "the last drift check could not be made"
			if e.Drift.Message != "" {
				e.Problem += ": " + e.Drift.Message
			}
		}
		if l, ok := locks[rec.Set]; ok {
			e.Lock = &l
		}
		out = append(out, e)
	}
	return out, nil
}

// repoInfo returns the repository's visibility, from the cache while it is
// fresh. A repository GitHub does not answer for keeps what was known, or
// is private: a badge is never shown without a token on a guess.
func (r *Refresher) repoInfo(ctx context.Context, repo string, now time.Time) RepoInfo {
	ttl := r.VisibilityTTL
	if ttl <= 0 {
		ttl = DefaultVisibilityTTL
	}
	k := repoKey(repo)
	c, ok := r.repos[k]
	if ok && now.Sub(c.at) < ttl {
		return c.info
	}
	gctx, cancel := context.WithTimeout(ctx, githubTimeout)
	defer cancel()
	info, err := r.GitHub.Repository(gctx, repo)
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Str("repo", repo).Msg("status pages: could not read the repository's visibility")
		if !ok {
			c.info = RepoInfo{Private: true}
		}
		retry := min(firstVisibilityRetry<<min(c.fails, 8), githubRetry)
		r.repos[k] = repoCache{info: c.info, at: now.Add(retry - ttl), fails: c.fails + 1}
		return c.info
	}
	r.repos[k] = repoCache{info: info, at: now}
	return info
}

// deployments returns the environment's newest Deployments: read again
// when its record changed or the cached ones are old.
func (r *Refresher) deployments(ctx context.Context, e *EnvState, now time.Time) []Deployment {
	ttl := r.DeploymentsTTL
	if ttl <= 0 {
		ttl = DefaultDeploymentsTTL
	}
	k := repoKey(e.Repo) + "/" + e.Env
	of := fmt.Sprintf("%s %s %s %d", e.Record.Commit, e.Record.Outcome, e.Record.Time.UTC().Format(time.RFC3339), e.Record.PR)
	c, ok := r.deploy[k]
	if ok && c.of == of && now.Sub(c.at) < ttl {
		return c.deps
	}
	gctx, cancel := context.WithTimeout(ctx, githubTimeout)
	defer cancel()
	deps, err := r.GitHub.Deployments(gctx, e.Repo, e.Env, MaxDeploys)
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Str("repo", e.Repo).Str("env", e.Env).Msg("status pages: could not list the Deployments")
		r.deploy[k] = deployCache{of: of, deps: c.deps, at: now.Add(githubRetry - ttl)}
		return c.deps
	}
	r.deploy[k] = deployCache{of: of, deps: deps, at: now}
	return deps
}

// envsOf lists the snapshot's environments in cluster.
func (s *Snapshot) envsOf(cluster string) []*EnvState {
	if s == nil {
		return nil
	}
	var out []*EnvState
	for _, rs := range s.Repos {
		for _, e := range rs.Envs {
			if e.Cluster == cluster {
				out = append(out, e)
			}
		}
	}
	return out
}
