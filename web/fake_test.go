package web

import (
	"context"
	"errors"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/kube"
)

// fakeClusters is a recording implementation of Clusters: records and
// locks per cluster, an error per cluster, and a count of every call.
type fakeClusters struct {
	mu    sync.Mutex
	recs  map[string][]kube.ApplySetRecord
	down  map[string]bool
	locks map[string]*kube.LockInfo // by repo/env
	calls atomic.Int64
}

func newFakeClusters() *fakeClusters {
	return &fakeClusters{recs: map[string][]kube.ApplySetRecord{}, down: map[string]bool{}, locks: map[string]*kube.LockInfo{}}
}

func (f *fakeClusters) Names() []string {
	f.calls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	var names []string
	for n := range f.recs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (f *fakeClusters) Records(_ context.Context, cluster string) ([]kube.ApplySetRecord, error) {
	f.calls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down[cluster] {
		return nil, errors.New("dial tcp 10.0.0.1:6443: connect: connection refused")
	}
	return append([]kube.ApplySetRecord(nil), f.recs[cluster]...), nil
}

func (f *fakeClusters) Locks(_ context.Context, cluster string) (map[kube.ApplySet]kube.LockInfo, error) {
	f.calls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[kube.ApplySet]kube.LockInfo{}
	for _, r := range f.recs[cluster] {
		if l := f.locks[r.Set.Repo+"/"+r.Set.Env]; l != nil {
			out[r.Set] = *l
		}
	}
	return out, nil
}

func (f *fakeClusters) set(cluster string, recs ...kube.ApplySetRecord) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recs[cluster] = recs
}

func (f *fakeClusters) setDown(cluster string, down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down[cluster] = down
}

// fakeGitHub is a recording implementation of GitHub.
type fakeGitHub struct {
	mu       sync.Mutex
	repos    map[string]RepoInfo
	deps     map[string][]Deployment // by repo/env
	fail     bool
	calls    atomic.Int64
	depsRead atomic.Int64
}

func newFakeGitHub() *fakeGitHub {
	return &fakeGitHub{repos: map[string]RepoInfo{}, deps: map[string][]Deployment{}}
}

func (f *fakeGitHub) Repository(_ context.Context, repo string) (RepoInfo, error) {
	f.calls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return RepoInfo{}, errors.New("GitHub: 502 Bad Gateway")
	}
	info, ok := f.repos[repo]
	if !ok {
		return RepoInfo{}, errors.New("GitHub: 404 Not Found")
	}
	return info, nil
}

func (f *fakeGitHub) Deployments(_ context.Context, repo, env string, limit int) ([]Deployment, error) {
	f.calls.Add(1)
	f.depsRead.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return nil, errors.New("GitHub: 502 Bad Gateway")
	}
	d := f.deps[repo+"/"+env]
	if len(d) > limit {
		d = d[:limit]
	}
	return d, nil
}

// clock is a settable time for the refresher.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// world is a refresher over fakes and the handler serving from it.
type world struct {
	clusters *fakeClusters
	gh       *fakeGitHub
	clock    *clock
	ref      *Refresher
	h        *Handler
	key      []byte
}

var t0 = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{clusters: newFakeClusters(), gh: newFakeGitHub(), clock: &clock{t: t0}, key: BadgeKey([]byte("0123456789abcdef0123456789abcdef"))}
	w.ref = &Refresher{Clusters: w.clusters, GitHub: w.gh, Now: w.clock.now}
	w.h = New(Options{Refresher: w.ref, BadgeKey: w.key, PublicURL: "https://tugboat.example.com", WebURL: "https://github.example.com"})
	return w
}

func (w *world) refresh() { w.ref.Refresh(context.Background()) }

// record is an ApplySet record of repo's env.
func record(repo, env string, outcome kube.Outcome, commit string, at time.Time) kube.ApplySetRecord {
	return kube.ApplySetRecord{
		Set:    kube.ApplySet{Repo: repo, Env: env},
		Record: kube.Record{Commit: commit, Outcome: outcome, Time: at, Trigger: kube.TriggerMerge},
	}
}
