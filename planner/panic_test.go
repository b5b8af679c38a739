package planner

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"k8s.io/client-go/rest"

	"github.com/tugboatops/tugboat/config"
)

// injectedPanic is what the tests' faulty components panic with: the
// second line must never reach a plan.
const injectedPanic = "injected fault\nsecond line of the panic value"

// panickyRenderer renders with the real renderer, but panics on a
// repository that holds a file named "panic" — the way a bug in a renderer
// would, on the goroutine the planner runs it on.
type panickyRenderer struct{ inner ManifestRenderer }

func (r panickyRenderer) Render(ctx context.Context, repo fs.FS, env config.Environment) ([]Object, []Problem, error) {
	if _, err := fs.Stat(repo, "panic"); err == nil {
		panic(injectedPanic)
	}
	return r.inner.Render(ctx, repo, env)
}

// faultyConfig is the test cluster's config with a transport that panics
// on the requests panicOn picks (a bug in code on a worker goroutine).
func faultyConfig(panicOn func(*http.Request) bool) *rest.Config {
	cfg := rest.CopyConfig(cluster.RESTConfig())
	prev := cfg.WrapTransport
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		if prev != nil {
			rt = prev(rt)
		}
		return panickyTransport{rt: rt, panicOn: panicOn}
	}
	return cfg
}

type panickyTransport struct {
	rt      http.RoundTripper
	panicOn func(*http.Request) bool
}

func (p panickyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if p.panicOn(r) {
		panic(injectedPanic)
	}
	return p.rt.RoundTrip(r)
}

func checkPanicMessage(t *testing.T, msg string) {
	t.Helper()
	if !strings.Contains(msg, "panic: injected fault") {
		t.Errorf("the panic's first line is not named: %q", msg)
	}
	if strings.Contains(msg, "second line") {
		t.Errorf("more than the panic's first line is shown: %q", msg)
	}
}

// TestPlanRenderPanicFailsTheEnvironment: a renderer that panics, for the
// head or for the base, fails that environment's plan with the panic's
// first line; the process goes on, and the next plan works.
func TestPlanRenderPanicFailsTheEnvironment(t *testing.T) {
	f := newFixture(t, cluster)
	f.createNamespace()
	f.planner.Renderer = panickyRenderer{inner: f.planner.Renderer}
	good := f.files("deploy/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: {{NS}}}\n")
	bad := f.files("deploy/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: {{NS}}}\n", "panic", "x")

	for name, in := range map[string]Input{
		"head": {Repo: bad, BaseRepo: good},
		"base": {Repo: good, BaseRepo: bad},
	} {
		in.RepoName, in.Env, in.Commit = f.repo, f.env(), "head"
		p, err := f.planner.Plan(f.ctx, in)
		if err == nil {
			t.Fatalf("%s render panicked, yet a plan was made:\n%s", name, describe(p))
		}
		checkPanicMessage(t, err.Error())
	}
	p := f.plan(f.env(), good, good)
	noProblems(t, p)
	if got := p.Counts(); got != (Counts{Create: 1}) {
		t.Errorf("the plan after the panics: %+v", got)
	}
}

// TestPlanDryRunPanicFailsTheObject: a panic on a dry-run worker becomes a
// problem of that object (with the panic's first line), which blocks the
// environment; every other object is still planned. A LIST that panics is
// a failed LIST: its objects are read one by one.
func TestPlanDryRunPanicFailsTheObject(t *testing.T) {
	var ns string
	cfg := faultyConfig(func(r *http.Request) bool {
		inNS := "/namespaces/" + ns + "/configmaps"
		switch {
		case r.Method == http.MethodPatch && strings.HasSuffix(r.URL.Path, inNS+"/boom"):
			return true
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, inNS): // the LIST
			return true
		}
		return false
	})
	f := newFixtureFor(t, cfg)
	ns = f.ns
	f.createNamespace()
	var docs []string
	for i := range 10 { // enough to be LISTed
		docs = append(docs, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d, namespace: {{NS}}}\ndata: {k: v}\n", i))
	}
	docs = append(docs, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: boom, namespace: {{NS}}}\ndata: {k: v}\n")
	p := f.plan(f.env(), f.files("deploy/cms.yaml", strings.Join(docs, "---\n")), nil)
	if len(p.Problems) != 1 || p.Problems[0].Object != "ConfigMap/"+ns+"/boom" {
		t.Fatalf("want one problem, on ConfigMap boom:\n%s", describe(p))
	}
	checkPanicMessage(t, p.Problems[0].Message)
	if got := p.Counts(); got != (Counts{Create: 10}) {
		t.Errorf("the other objects: %+v, want 10 creates:\n%s", got, describe(p))
	}
}

// crashingFS is a repository whose file deploy/boom.yaml panics when it is
// read (listing it works), as a buggy fs.FS would.
type crashingFS struct{ fstest.MapFS }

func (c crashingFS) Open(name string) (fs.File, error) {
	if name == "deploy/boom.yaml" {
		panic(injectedPanic)
	}
	return c.MapFS.Open(name)
}

func (c crashingFS) ReadFile(name string) ([]byte, error) {
	if name == "deploy/boom.yaml" {
		panic(injectedPanic)
	}
	return c.MapFS.ReadFile(name)
}

// TestRenderPanicSendingTheRepository: a panic on the goroutine that
// streams the repository to the render child fails the render with the
// panic's first line; the child is not left waiting for the rest.
func TestRenderPanicSendingTheRepository(t *testing.T) {
	f := newFixture(t, cluster)
	repo := crashingFS{f.files(
		"deploy/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
		"deploy/boom.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: boom}\n")}
	start := time.Now()
	_, _, err := f.planner.Renderer.Render(f.ctx, repo, f.env())
	if err == nil {
		t.Fatal("reading the repository crashed, yet the render succeeded")
	}
	checkPanicMessage(t, err.Error())
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the render took %s after the crash: the child waited for input", took)
	}
}
