package planner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/internal/benchtest"
	"github.com/tugboatops/tugboat/internal/kubetest"
	"github.com/tugboatops/tugboat/kube"
)

// benchRuns is how many times each contender runs; the table shows medians.
const benchRuns = 5

// benchObjects returns n objects, half Deployments and half ConfigMaps, in
// namespace ns. changed alters every other one (image tag, data value).
// Deployments have no replicas so no pods load the control plane while
// the contenders are measured.
func benchObjects(ns string, n int, changed bool) []*unstructured.Unstructured {
	objs := make([]*unstructured.Unstructured, 0, n)
	for i := range n {
		version := "1"
		if changed && i%4 < 2 { // every other Deployment and every other ConfigMap
			version = "2"
		}
		name := fmt.Sprintf("obj-%05d", i/2)
		if i%2 == 0 {
			objs = append(objs, &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "apps/v1", "kind": "Deployment",
				"metadata": map[string]any{"name": name, "namespace": ns, "labels": map[string]any{"app": name}},
				"spec": map[string]any{
					"replicas": int64(0),
					"selector": map[string]any{"matchLabels": map[string]any{"app": name}},
					"template": map[string]any{
						"metadata": map[string]any{"labels": map[string]any{"app": name}},
						"spec": map[string]any{"containers": []any{map[string]any{
							"name": "app", "image": "registry.example.com/app:" + version,
							"ports": []any{map[string]any{"containerPort": int64(8080)}},
							"env":   []any{map[string]any{"name": "MODE", "value": "production"}},
						}}},
					},
				},
			}})
		} else {
			objs = append(objs, &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "v1", "kind": "ConfigMap",
				"metadata": map[string]any{"name": name, "namespace": ns},
				"data":     map[string]any{"version": version, "settings.yaml": strings.Repeat("key: value\n", 20)},
			}})
		}
	}
	return objs
}

// writeObjects writes one YAML file per object, as a repository would.
func writeObjects(b *testing.B, dir string, objs []*unstructured.Unstructured) {
	b.Helper()
	for i, o := range objs {
		y, err := yaml.Marshal(o.Object)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%05d-%s.yaml", i, strings.ToLower(o.GetKind()))), y, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// benchDeploy really applies objs (the "deployed" state) as the applier
// does, concurrently.
func benchDeploy(b *testing.B, kc *kube.Cluster, set kube.ApplySet, objs []*unstructured.Unstructured) {
	b.Helper()
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": objs[0].GetNamespace()}}}
	if err := benchSend(context.Background(), kc, []*unstructured.Unstructured{ns}, set.MemberLabels(), false, 1); err != nil {
		b.Fatal(err)
	}
	if err := benchSend(context.Background(), kc, objs, set.MemberLabels(), false, 32); err != nil {
		b.Fatal(err)
	}
}

func benchSend(ctx context.Context, kc *kube.Cluster, objs []*unstructured.Unstructured, labels map[string]string, dryRun bool, workers int) error {
	var (
		wg      sync.WaitGroup
		next    atomic.Int64
		errOnce sync.Once
		first   error
	)
	force := true
	opts := metav1.PatchOptions{FieldManager: kube.FieldManager, Force: &force}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(objs) {
					return
				}
				o := objs[i]
				body, err := PrepareForApply(o, labels, nil).MarshalJSON()
				if err == nil {
					gvk := o.GroupVersionKind()
					var m *meta.RESTMapping
					m, err = kc.RESTMapping(gvk.GroupKind(), gvk.Version)
					if err == nil {
						_, err = kc.Dynamic.Resource(m.Resource).Namespace(o.GetNamespace()).Patch(ctx, o.GetName(), types.ApplyPatchType, body, opts)
					}
				}
				if err != nil {
					errOnce.Do(func() { first = err })
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// newFloor is the raw floor of desired: the same SSA dry-run PATCHes the
// planner sends, from a bare concurrent HTTP client.
func newFloor(b *testing.B, kc *kube.Cluster, cfg *rest.Config, set kube.ApplySet, objs []*unstructured.Unstructured) *benchtest.Floor {
	b.Helper()
	f, err := benchtest.NewFloor(cfg)
	if err != nil {
		b.Fatal(err)
	}
	for _, o := range objs {
		body, err := PrepareForApply(o, set.MemberLabels(), nil).MarshalJSON()
		if err != nil {
			b.Fatal(err)
		}
		gvk := o.GroupVersionKind()
		m, err := kc.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			b.Fatal(err)
		}
		f.Add(benchtest.DryRunApplyPath(m.Resource, o.GetNamespace(), o.GetName(), kube.FieldManager), body)
	}
	return f
}

// kubectlDiff runs `kubectl diff --server-side -f dir` with the dry-run the
// planner sends (field manager tugboat, force-conflicts); exit status 1 just
// means "there are differences".
func kubectlDiff(kubeconfig, dir string) error {
	cmd := exec.Command("kubectl", "--kubeconfig", kubeconfig, "diff", "--server-side", "--force-conflicts", "--field-manager", kube.FieldManager, "-f", dir)
	cmd.Stdout = io.Discard
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("kubectl diff: %v: %s", err, stderr.String())
	}
	return nil
}

// settle is the pause before each timed run, so no contender pays for
// the work the previous one left the API server (its GC, its caches).
const settle = time.Second

func timeIt(b *testing.B, f func() error) time.Duration {
	b.Helper()
	time.Sleep(settle)
	runtime.GC()
	start := time.Now()
	if err := f(); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// median is benchtest.Median, short for this file's many tables.
func median(ds []time.Duration) time.Duration { return benchtest.Median(ds) }

// benchPlanner is a planner of the shared cluster rendering with the real
// child process.
func benchPlanner(b *testing.B, reg *kube.Registry) *Planner {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	return &Planner{
		Clusters:  reg,
		DigestKey: testDigestKey,
		Renderer:  &Renderer{Exe: exe, Env: []string{"TUGBOAT_RENDER_CHILD=1"}},
	}
}

func benchPlan(b *testing.B, p *Planner, in Input, wantChanges int) func() error {
	return func() error {
		plan, err := p.Plan(context.Background(), in)
		if err != nil {
			return err
		}
		if len(plan.Problems) > 0 {
			return fmt.Errorf("plan has problems: %s", describe(plan))
		}
		if c := plan.Counts(); c.Update != wantChanges {
			return fmt.Errorf("plan has %+v, want %d updates", c, wantChanges)
		}
		return nil
	}
}

// BenchmarkPlan1000 compares the planner, and `bot plan` as a whole
// process, with kubectl diff and with the raw floor on 1,000 objects (every
// other one changed), on a cluster with API Priority and Fairness off (as
// kubetest runs) and on one with it on at its defaults (as real clusters
// run); then it measures the planner's peak memory on 5,000. Run with
// -benchtime 1x (make bench).
func BenchmarkPlan1000(b *testing.B) {
	for range b.N {
		benchPlan1000(b)
	}
}

// planScenario is one cluster's medians.
type planScenario struct {
	planner, process, kubectl, floor time.Duration
	runs                             string
	phases                           string
}

func benchPlan1000(b *testing.B) {
	const n = 1000
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	apfCluster, err := kubetest.New(ctx, kubetest.WithName("bench-apf"), kubetest.WithPriorityAndFairness(), kubetest.WithUsers(benchtest.User))
	if err != nil {
		cancel()
		b.Fatal(err)
	}
	defer apfCluster.Close()
	// With APF on, the contenders act as benchtest.User: kubetest's admin
	// is exempt from APF, a real tool is not.
	apfKubeconfig, apfConfig, err := benchtest.AsUser(ctx, apfCluster)
	cancel()
	if err != nil {
		b.Fatal(err)
	}

	off, sweep, reg, kc := planBench(b, cluster.Kubeconfig(), cluster.RESTConfig(), n, true)
	on, _, _, _ := planBench(b, apfKubeconfig, apfConfig, n, false)
	heap, child := benchPeakMemory(b, reg, kc)
	peak := heap + uint64(child)

	mp, mk, mf, mb := off.planner, off.kubectl, off.floor, off.process
	ratio := func(a, b time.Duration) float64 { return a.Seconds() / b.Seconds() }
	b.ReportMetric(mb.Seconds(), "bot-plan-s")
	b.ReportMetric(ratio(mb, mf), "bot-plan/floor")
	b.ReportMetric(mp.Seconds(), "planner-s")
	b.ReportMetric(mk.Seconds(), "kubectl-s")
	b.ReportMetric(mf.Seconds(), "floor-s")
	b.ReportMetric(ratio(mp, mf), "planner/floor")
	b.ReportMetric(ratio(mk, mp), "kubectl/planner")
	b.ReportMetric(ratio(on.process, on.floor), "apf-bot-plan/floor")
	b.ReportMetric(ratio(on.planner, on.floor), "apf-planner/floor")
	b.ReportMetric(float64(peak)/(1<<20), "peak-MB-5000")
	row := func(s planScenario) string {
		return fmt.Sprintf(`| planner (render child + dry-run + diff)       | %9v | planner/floor = %.2f (≤ 1.5), kubectl/planner = %.1f (≥ 5) |
| bot plan -o json (the whole process)          | %9v | bot-plan/floor = %.2f (≤ 1.5), kubectl/bot-plan = %.1f |
| kubectl diff --server-side -f DIR             | %9v |                             |
| raw floor (32 workers, SSA dry-run PATCH only) | %9v |                             |
runs: %s
bot plan -v phases: %s`,
			s.planner.Round(time.Millisecond), ratio(s.planner, s.floor), ratio(s.kubectl, s.planner),
			s.process.Round(time.Millisecond), ratio(s.process, s.floor), ratio(s.kubectl, s.process),
			s.kubectl.Round(time.Millisecond), s.floor.Round(time.Millisecond), s.runs, s.phases)
	}
	fmt.Printf(`
BenchmarkPlan1000: %d objects (%d Deployments + %d ConfigMaps, every other one changed), medians of %d runs
API Priority and Fairness off (kubetest's default):
| contender                                     | wall time | ratio                       |
|-----------------------------------------------|-----------|-----------------------------|
%s
API Priority and Fairness on, at its defaults (as real clusters run):
| contender                                     | wall time | ratio                       |
|-----------------------------------------------|-----------|-----------------------------|
%s
planner peak memory, 5,000 objects: %.0f MB = heap %.0f MB + render child max RSS %.0f MB (target ≤ 200 MB)
%s`, n, n/2, n/2, benchRuns, row(off), row(on),
		float64(peak)/(1<<20), float64(heap)/(1<<20), float64(child)/(1<<20), sweep)
}

// planBench measures the contenders on the cluster of kubeconfig and cfg
// (one user's): the planner in this process, `bot
// plan` as its own process, the raw floor and kubectl diff, alternated so
// drift in the machine's load hits all alike. With sweep, it also times the
// planner at several concurrency levels and with GETs instead of LISTs.
func planBench(b *testing.B, kubeconfig string, cfg *rest.Config, n int, sweep bool) (planScenario, string, *kube.Registry, *kube.Cluster) {
	reg := kube.NewRegistry(nil)
	if err := reg.AddConfig("bench", cfg); err != nil {
		b.Fatal(err)
	}
	kc, err := reg.Cluster("bench")
	if err != nil {
		b.Fatal(err)
	}
	ns := fmt.Sprintf("bench-%d", time.Now().UnixNano()%1e6)
	set := kube.ApplySet{Repo: "acme/bench", Env: "bench"}
	benchDeploy(b, kc, set, benchObjects(ns, n, false))
	desired := benchObjects(ns, n, true)
	repo := b.TempDir()
	dir := filepath.Join(repo, "deploy")
	if err := os.Mkdir(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	writeObjects(b, dir, desired)

	env := config.Environment{Name: "bench", Cluster: "bench", Path: "deploy"}
	in := Input{Repo: os.DirFS(repo), RepoName: set.Repo, Env: env}
	p := benchPlanner(b, reg)
	fl := newFloor(b, kc, cfg, set, desired)
	const floorWorkers = 32
	proc := newBotPlanProcess(b, repo, env.Path, kubeconfig, set.Repo)
	runProc := func() error { _, err := proc.run(n/2, false); return err }

	// Warm up every contender once (discovery caches, connections, the
	// apiserver's own caches); the bot process's first run fills its
	// discovery cache on disk, as a user's first `bot plan` does.
	for _, f := range []func() error{benchPlan(b, p, in, n/2), func() error { return fl.Run(floorWorkers) }, runProc} {
		timeIt(b, f)
	}
	var planner, kubectl, raw, process []time.Duration
	for range benchRuns {
		planner = append(planner, timeIt(b, benchPlan(b, p, in, n/2)))
		raw = append(raw, timeIt(b, func() error { return fl.Run(floorWorkers) }))
		process = append(process, timeIt(b, runProc))
		kubectl = append(kubectl, timeIt(b, func() error { return kubectlDiff(kubeconfig, dir) }))
	}
	phases, err := proc.run(n/2, true)
	if err != nil {
		b.Fatal(err)
	}
	s := planScenario{
		planner: median(planner), process: median(process), kubectl: median(kubectl), floor: median(raw),
		runs:   fmt.Sprintf("planner %v, bot plan %v, kubectl %v, floor %v", planner, process, kubectl, raw),
		phases: phases,
	}
	if !sweep {
		return s, "", reg, kc
	}

	// How the defaults were chosen: dry-runs in flight, and LIST versus
	// one GET per object.
	var out strings.Builder
	levels := []int{1, 4, 8, 16, 32, 64}
	byLevel := make([][]time.Duration, len(levels))
	for range benchRuns {
		for i, level := range levels {
			q := *p
			q.Concurrency = level
			byLevel[i] = append(byLevel[i], timeIt(b, benchPlan(b, &q, in, n/2)))
		}
	}
	for i, level := range levels {
		fmt.Fprintf(&out, "  concurrency %2d: median %v\n", level, median(byLevel[i]).Round(time.Millisecond))
	}
	var gets []time.Duration
	getOnly := *p
	getOnly.listThreshold = 1 << 30
	for range benchRuns {
		gets = append(gets, timeIt(b, benchPlan(b, &getOnly, in, n/2)))
	}
	fmt.Fprintf(&out, "  live objects by one GET each instead of LIST (concurrency %d): median %v\n", DefaultConcurrency,
		median(gets).Round(time.Millisecond))
	return s, out.String(), reg, kc
}

// benchPeakMemory plans 5,000 objects and returns the highest live heap
// seen while it ran and the render child's peak resident set (its own
// process, which the heap never shows).
func benchPeakMemory(b *testing.B, reg *kube.Registry, kc *kube.Cluster) (heap uint64, child int64) {
	const n = 5000
	ns := fmt.Sprintf("bench5k-%d", time.Now().UnixNano()%1e6)
	set := kube.ApplySet{Repo: "acme/bench5k", Env: "bench"}
	benchDeploy(b, kc, set, benchObjects(ns, n, false))
	dir := b.TempDir()
	writeObjects(b, dir, benchObjects(ns, n, true))
	p := benchPlanner(b, reg)
	in := Input{Repo: os.DirFS(dir), RepoName: set.Repo, Env: config.Environment{Name: "bench", Cluster: "bench", Path: "."}}

	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	timeIt(b, benchPlan(b, p, in, n/2))
	close(done)
	wg.Wait()
	return peak.Load(), p.Renderer.(*Renderer).PeakChildRSS()
}
