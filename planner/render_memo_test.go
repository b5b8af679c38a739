package planner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/tugboatops/tugboat/config"
)

// countingRenderer renders in process and counts its renders by tree (the
// content of the tree's file "tree") and environment.
type countingRenderer struct {
	mu    sync.Mutex
	count map[string]int
	// fail, when set, is the error of the next render, which then clears it.
	fail error
	// gate, when set, holds every render until it is closed.
	gate chan struct{}
}

func newCountingRenderer() *countingRenderer { return &countingRenderer{count: map[string]int{}} }

func (c *countingRenderer) Render(ctx context.Context, repo fs.FS, env config.Environment) ([]Object, []Problem, error) {
	id, _ := fs.ReadFile(repo, "tree")
	c.mu.Lock()
	c.count[string(id)+"/"+env.Name]++
	err, gate := c.fail, c.gate
	c.fail = nil
	c.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if err != nil {
		return nil, nil, err
	}
	objs, probs := RenderInProcess(repo, env.Path, DefaultLimits())
	return objs, probs, nil
}

func (c *countingRenderer) renders() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var parts []string
	for k, n := range c.count {
		parts = append(parts, fmt.Sprintf("%s:%d", k, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// memoTrees are a base and a merge tree with an environment each in
// deploy/staging and deploy/prod.
func memoTrees() (base, merge fstest.MapFS) {
	cm := func(name, v string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + "}\ndata: {v: \"" + v + "\"}\n")}
	}
	base = fstest.MapFS{"tree": {Data: []byte("base")}, "deploy/staging/a.yaml": cm("a", "1"), "deploy/prod/b.yaml": cm("b", "1")}
	merge = fstest.MapFS{"tree": {Data: []byte("merge")}, "deploy/staging/a.yaml": cm("a", "2"), "deploy/prod/b.yaml": cm("b", "1")}
	return base, merge
}

var (
	memoStaging = config.Environment{Name: "staging", Path: "deploy/staging"}
	memoProd    = config.Environment{Name: "prod", Path: "deploy/prod"}
)

func TestRenderMemoRendersEachTreeAndEnvironmentOnce(t *testing.T) {
	inner := newCountingRenderer()
	m := NewRenderMemo(inner)
	baseFS, mergeFS := memoTrees()
	base, merge := m.Tree("b1", baseFS), m.Tree("m1", mergeFS)
	ctx := context.Background()

	var wg sync.WaitGroup
	for range 3 {
		for _, tree := range []fs.FS{base, merge} {
			for _, env := range []config.Environment{memoStaging, memoProd} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					objs, probs, err := m.Render(ctx, tree, env)
					if err != nil || len(probs) > 0 || len(objs) != 1 {
						t.Errorf("render %s: %d objects, %v, %v", env.Name, len(objs), probs, err)
					}
				}()
			}
		}
	}
	wg.Wait()
	if got, want := inner.renders(), "base/prod:1 base/staging:1 merge/prod:1 merge/staging:1"; got != want {
		t.Errorf("renders = %s, want %s", got, want)
	}

	// What one caller does to its objects, no other caller sees.
	objs, _, _ := m.Render(ctx, merge, memoStaging)
	objs[0].Obj.SetName("changed")
	again, _, _ := m.Render(ctx, merge, memoStaging)
	if again[0].Obj.GetName() != "a" {
		t.Errorf("a caller's change reached the memo: name %q", again[0].Obj.GetName())
	}

	// Trees not marked for this memo are rendered every time.
	other := NewRenderMemo(inner).Tree("m1", mergeFS)
	for _, tree := range []fs.FS{mergeFS, other, mergeFS, other} {
		if _, _, err := m.Render(ctx, tree, memoProd); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := inner.renders(), "base/prod:1 base/staging:1 merge/prod:5 merge/staging:1"; got != want {
		t.Errorf("renders = %s, want %s", got, want)
	}
}

// A failure of the renderer itself is not remembered.
func TestRenderMemoRetriesAFailedRender(t *testing.T) {
	inner := newCountingRenderer()
	inner.fail = errors.New("render child could not start")
	m := NewRenderMemo(inner)
	_, mergeFS := memoTrees()
	merge := m.Tree("m1", mergeFS)
	if _, _, err := m.Render(context.Background(), merge, memoStaging); err == nil {
		t.Fatal("the failure was not returned")
	}
	objs, _, err := m.Render(context.Background(), merge, memoStaging)
	if err != nil || len(objs) != 1 {
		t.Fatalf("second render: %d objects, %v", len(objs), err)
	}
	if got := inner.renders(); got != "merge/staging:2" {
		t.Errorf("renders = %s, want the failed one and one more", got)
	}
}

// A caller waiting for another's render stops waiting when its context ends.
func TestRenderMemoWaiterHonoursItsContext(t *testing.T) {
	inner := newCountingRenderer()
	inner.gate = make(chan struct{})
	m := NewRenderMemo(inner)
	_, mergeFS := memoTrees()
	merge := m.Tree("m1", mergeFS)
	first := make(chan error, 1)
	go func() { _, _, err := m.Render(context.Background(), merge, memoStaging); first <- err }()
	for inner.renders() == "" {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := m.Render(ctx, merge, memoStaging); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiter = %v, want its deadline", err)
	}
	close(inner.gate)
	if err := <-first; err != nil {
		t.Errorf("first render: %v", err)
	}
	if got := inner.renders(); got != "merge/staging:1" {
		t.Errorf("renders = %s", got)
	}
}

// A plan whose Input.Renderer is a memo renders through it: trees rendered
// before (as ops does to find the affected environments) are not rendered
// again, and the plan is the same as without the memo.
func TestPlanSharesRendersThroughInputRenderer(t *testing.T) {
	f := newFixture(t, cluster)
	f.createNamespace()
	f.apply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: {{NS}}}\ndata: {color: blue}\n")
	head := f.files("deploy/settings.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: {{NS}}}\ndata: {color: green}\n")
	base := f.files("deploy/settings.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: {{NS}}}\ndata: {color: blue}\n")
	head["tree"] = &fstest.MapFile{Data: []byte("head")}
	base["tree"] = &fstest.MapFile{Data: []byte("base")}

	inner := newCountingRenderer()
	memo := NewRenderMemo(inner)
	headT, baseT := memo.Tree("h", head), memo.Tree("b", base)
	for _, tree := range []fs.FS{baseT, headT} {
		if _, _, err := memo.Render(f.ctx, tree, f.env()); err != nil {
			t.Fatal(err)
		}
	}
	in := Input{Repo: headT, BaseRepo: baseT, RepoName: f.repo, Env: f.env(), Commit: "head", Renderer: memo}
	shared, err := f.planner.Plan(f.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if got := inner.renders(); got != "base/test:1 head/test:1" {
		t.Errorf("renders = %s, want each tree once", got)
	}
	noProblems(t, shared)
	if c := change(t, shared, "ConfigMap", "settings"); c.Action != ActionUpdate || !c.FromPR || !strings.Contains(c.Diff, "+  color: green") {
		t.Errorf("settings: %s fromPR=%v\n%s", c.Action, c.FromPR, c.Diff)
	}
	plain := f.plan(f.env(), head, base)
	if plain.Digest != shared.Digest {
		t.Errorf("digest with the memo %s, without %s", shared.Digest, plain.Digest)
	}
}
