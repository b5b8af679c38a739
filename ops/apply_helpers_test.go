package ops

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/applier"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/internal/githubtest"
	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/planner"
)

// The decisions of the apply flow (who, requirements, locks, digests,
// ordering) are tested here against the GitHub emulator with a fake planner
// and applier whose "cluster" is a map; e2e runs the real ones.

const testRepo = "acme/infra"

const testConfig = `version: 1
environments:
  staging:
    cluster: staging
    path: deploy/staging
    apply: on-comment
  prod:
    cluster: prod
    path: deploy/prod
    apply: on-merge
    after: [staging]
`

// world is one test's emulator, ops and fakes.
type world struct {
	t       *testing.T
	gh      *githubtest.Server
	client  *gh.Client
	repo    gh.Repo
	ops     *Ops
	planner *fakePlanner
	applier *fakeApplier
	state   *memState
}

func newWorld(t *testing.T) *world {
	t.Helper()
	s := githubtest.New(t, githubtest.WithLogf(func(string, ...any) {}))
	s.CreateRepo(testRepo, githubtest.RepoOptions{Files: map[string]string{
		config.RepoFile:           testConfig,
		"deploy/staging/app.yaml": "image: web:1.0\n",
		"deploy/prod/app.yaml":    "image: web:1.0\n",
	}})
	id := s.CreateInstallation("acme")
	for login, perm := range map[string]string{"bob": "write", "carol": "write", "erin": "maintain", "dave": "read", "alice": "admin"} {
		s.SetPermission(testRepo, login, perm)
	}
	app := s.App()
	cc := githubapp.NewClientCreator(s.URL()+"/api/v3/", s.URL()+"/api/graphql", app.ID, app.PrivateKeyPEM,
		githubapp.WithClientMiddleware(gh.Middleware(gh.RetryPolicy{Backoff: 10 * time.Millisecond}, gh.NewMetrics(prometheus.NewRegistry()))))
	f := &gh.Factory{Creator: cc, Download: &http.Client{Transport: &gh.Transport{Metrics: gh.NewMetrics(prometheus.NewRegistry())}}}
	c, err := f.Installation(id)
	if err != nil {
		t.Fatal(err)
	}
	st := newMemState()
	p := &fakePlanner{live: map[string]string{}}
	a := &fakeApplier{planner: p, state: st}
	o := New(Engines{Planner: p, Renderer: p, Applier: a, State: st},
		Options{BotLogin: app.Slug + "[bot]", AppID: app.ID, Mergeable: gh.MergeablePolicy{Timeout: 5 * time.Second}})
	return &world{t: t, gh: s, client: c, repo: gh.Repo{Owner: "acme", Name: "infra"}, ops: o, planner: p, applier: a, state: st}
}

func (w *world) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	w.t.Cleanup(cancel)
	return zerolog.New(zerolog.NewTestWriter(w.t)).WithContext(ctx)
}

func (w *world) pr(n int) PR { return PR{Client: w.client, Repo: w.repo, Number: n} }

// openPR opens a pull request from a new branch that changes both
// environments, by bob, and plans it.
func (w *world) openPR(branch, image string) int {
	w.t.Helper()
	w.gh.Branch(testRepo, branch, "main")
	w.gh.Commit(testRepo, branch, map[string]string{
		"deploy/staging/app.yaml": "image: " + image + "\n",
		"deploy/prod/app.yaml":    "image: " + image + "\n",
	}, "release "+image)
	n := w.gh.OpenPR(testRepo, githubtest.PROptions{Head: branch, Title: "release " + image, Author: "bob"})
	w.plan(n)
	return n
}

func (w *world) plan(n int) {
	w.t.Helper()
	if err := w.ops.PlanPR(w.ctx(), PlanRequest{PR: w.pr(n)}); err != nil {
		w.t.Fatalf("PlanPR #%d: %v", n, err)
	}
}

func (w *world) apply(n int, actor string, envs ...string) {
	w.t.Helper()
	err := w.ops.ApplyPR(w.ctx(), ApplyRequest{PR: w.pr(n), Actor: actor, Envs: envs, Trigger: "comment"})
	if err != nil {
		w.t.Fatalf("ApplyPR #%d: %v", n, err)
	}
}

// lastReply is the newest comment on the PR.
func (w *world) lastReply(n int) string {
	cs := w.gh.Comments(testRepo, n)
	if len(cs) == 0 {
		return ""
	}
	return cs[len(cs)-1].Body
}

func (w *world) head(n int) string { return w.gh.PR(testRepo, n).HeadSHA }

// fakePlanner plans from a hash of the environment's files against a map
// of what "runs" per environment: a plan has one change until the content
// is applied. It is also the Renderer.
type fakePlanner struct {
	mu    sync.Mutex
	live  map[string]string // env → content hash applied
	drift map[string]bool
	plans int
}

func treeHash(repo fs.FS, dir string) string {
	h := sha256.New()
	var names []string
	_ = fs.WalkDir(repo, dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return nil
	})
	sort.Strings(names)
	for _, n := range names {
		data, _ := fs.ReadFile(repo, n)
		h.Write([]byte(n + "\x00"))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (f *fakePlanner) Plan(_ context.Context, in planner.Input) (*planner.Plan, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.plans++
	h := treeHash(in.Repo, in.Env.Path)
	p := &planner.Plan{Env: in.Env.Name, Cluster: in.Env.Cluster, Commit: in.Commit}
	if f.live[in.Env.Name] == h && !f.drift[in.Env.Name] {
		p.Changes = []planner.Change{{Ref: appRef(in.Env.Name), Action: planner.ActionUnchanged}}
		p.Digest = "unchanged-" + h[:12]
		return p, nil
	}
	p.Changes = []planner.Change{{Ref: appRef(in.Env.Name), Action: planner.ActionUpdate, FromPR: true, Diff: "-image: old\n+image: new\n"}}
	p.Digest = "changed-" + h[:12]
	if f.drift[in.Env.Name] {
		p.Digest += "-drifted"
	}
	return p, nil
}

// count is how many plans were made.
func (f *fakePlanner) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.plans
}

func appRef(env string) planner.ObjectRef {
	return planner.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: env, Name: "app"}
}

func (f *fakePlanner) Render(_ context.Context, repo fs.FS, env config.Environment) ([]planner.Object, []planner.Problem, error) {
	return nil, nil, nil
}

func (f *fakePlanner) setDrift(env string, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.drift == nil {
		f.drift = map[string]bool{}
	}
	f.drift[env] = on
}

// fakeApplier applies like the real one: re-plan, compare digests, then
// "write" (the planner's live map) and record.
type fakeApplier struct {
	planner *fakePlanner
	state   *memState
	mu      sync.Mutex
	applied []string // "env@commit"
	fail    map[string]bool
}

func (a *fakeApplier) Plan(ctx context.Context, in planner.Input) (*applier.Planned, error) {
	p, err := a.planner.Plan(ctx, in)
	if err != nil {
		return nil, err
	}
	return &applier.Planned{Plan: p}, nil
}

func (a *fakeApplier) Apply(ctx context.Context, shown string, in planner.Input, opts applier.Options) (*applier.Result, error) {
	var p *planner.Plan
	if opts.Planned != nil {
		p = opts.Planned.Plan
	} else {
		p, _ = a.planner.Plan(ctx, in)
	}
	res := &applier.Result{Plan: p, Outcome: kube.OutcomeFailed}
	if p.Digest != shown {
		return res, &applier.PlanChangedError{Shown: shown, Plan: p}
	}
	if opts.BeforeWrite != nil {
		opts.BeforeWrite(ctx, p)
	}
	a.mu.Lock()
	a.applied = append(a.applied, in.Env.Name+"@"+in.Commit)
	failing := a.fail[in.Env.Name]
	a.mu.Unlock()
	for _, ch := range p.Changes {
		if opts.Progress != nil && ch.Action != planner.ActionUnchanged {
			opts.Progress(applier.ProgressEvent{Phase: applier.PhaseApply, Ref: ch.Ref, Action: ch.Action, Outcome: "applied"})
		}
	}
	res.Writes = []applier.ObjectWrite{{Ref: appRef(in.Env.Name), Action: planner.ActionUpdate, Outcome: applier.WriteApplied}}
	rec := kube.Record{Commit: in.Commit, PR: opts.PR, Head: opts.Head, Digest: shown, Time: time.Now()}
	if failing {
		res.Wait = &applier.WaitResult{Converged: false}
		rec.Outcome = kube.OutcomeFailed
		a.state.setRecord(in.Env.Name, rec)
		return res, &applier.IncompleteError{Cause: context.DeadlineExceeded}
	}
	a.planner.mu.Lock()
	a.planner.live[in.Env.Name] = treeHash(in.Repo, in.Env.Path)
	a.planner.mu.Unlock()
	res.Wait = &applier.WaitResult{Converged: true}
	res.Outcome = kube.OutcomeConverged
	rec.Outcome = kube.OutcomeConverged
	a.state.setRecord(in.Env.Name, rec)
	return res, nil
}

func (a *fakeApplier) calls() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.applied...)
}

// memState keeps locks and records in memory, with the semantics of the
// Leases (tested against real clusters in kube).
type memState struct {
	mu      sync.Mutex
	locks   map[string]LockInfo
	records map[string]kube.Record
	mutexes map[string]*sync.Mutex
	pins    map[string]kube.Pin // see pin_helpers_test.go
}

func newMemState() *memState {
	return &memState{locks: map[string]LockInfo{}, records: map[string]kube.Record{}, mutexes: map[string]*sync.Mutex{}}
}

func (s *memState) AcquireLock(_ context.Context, env config.Environment, _ string, info LockInfo) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.locks[env.Name]; ok {
		if cur.Holder != info.Holder {
			return false, &LockedError{Env: env.Name, Lock: cur}
		}
		s.locks[env.Name] = info
		return false, nil
	}
	s.locks[env.Name] = info
	return true, nil
}

func (s *memState) ReleaseLock(_ context.Context, env config.Environment, _, holder string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.locks[env.Name]
	if !ok {
		return nil
	}
	if cur.Holder != holder {
		return &LockedError{Env: env.Name, Lock: cur}
	}
	delete(s.locks, env.Name)
	return nil
}

func (s *memState) ReadLock(_ context.Context, env config.Environment, _ string) (*LockInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.locks[env.Name]; ok {
		return &cur, nil
	}
	return nil, nil
}

func (s *memState) AcquireMutex(ctx context.Context, env config.Environment, _ string) (context.Context, func(), error) {
	s.mu.Lock()
	m, ok := s.mutexes[env.Name]
	if !ok {
		m = &sync.Mutex{}
		s.mutexes[env.Name] = m
	}
	s.mu.Unlock()
	m.Lock()
	return ctx, m.Unlock, nil
}

func (s *memState) Record(_ context.Context, env config.Environment, _ string) (kube.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.records[env.Name], nil
}

func (s *memState) RecordCommit(_ context.Context, env config.Environment, _ string, rec kube.Record) error {
	s.setRecord(env.Name, rec)
	return nil
}

func (s *memState) setRecord(env string, rec kube.Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[env] = rec
}

func (s *memState) lockHolder(env string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.locks[env].Holder
}

// statusOf is the newest status of a context.
func statusOf(all []githubtest.Status, context string) *githubtest.Status {
	var out *githubtest.Status
	for i := range all {
		if all[i].Context == context && (out == nil || all[i].ID > out.ID) {
			out = &all[i]
		}
	}
	return out
}

// latestRun is the newest check run of a name.
func latestRun(all []githubtest.CheckRun, name string) *githubtest.CheckRun {
	var out *githubtest.CheckRun
	for i := range all {
		if all[i].Name == name && (out == nil || all[i].ID > out.ID) {
			out = &all[i]
		}
	}
	return out
}

func envNamed(name string) config.Environment { return config.Environment{Name: name} }
