package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"sigs.k8s.io/yaml"

	"github.com/tugboatops/tugboat/internal/githubtest"
	"github.com/tugboatops/tugboat/internal/kubetest"
)

// The apply benchmarks change 200 objects per environment, as a release
// would: 100 ConfigMaps and 100 one-replica Deployments all get a new
// app.kubernetes.io/version label, every ConfigMap new data, and the first
// benchRollouts Deployments a new pod template (a config checksum
// annotation), so those roll out on kwok's nodes and the wait is real. Only
// a tenth roll out: a hundred rollouts on two shared cores take 10–20 s
// with seconds of spread, which would drown the overhead measured.
const (
	benchRuns     = 5   // each contender runs this often; the tables show medians
	benchPairs    = 100 // ConfigMap + Deployment pairs per environment
	benchRollouts = 10  // Deployments whose pods roll out on each change
	benchLabel    = "tugboat-bench"
)

// benchFile is one environment's 200 objects at version v.
func benchFile(v string) string {
	var b strings.Builder
	for i := range benchPairs {
		name := fmt.Sprintf("web-%03d", i)
		template := "stable"
		if i < benchRollouts {
			template = v
		}
		fmt.Fprintf(&b, `apiVersion: v1
kind: ConfigMap
metadata:
  name: %[1]s
  labels: {%[3]s: "1", app.kubernetes.io/version: %[2]q}
data:
  version: %[2]q
  settings.yaml: |
    listen: ":8080"
    mode: production
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
  labels: {app: %[1]s, %[3]s: "1", app.kubernetes.io/version: %[2]q}
spec:
  replicas: 1
  selector:
    matchLabels: {app: %[1]s}
  template:
    metadata:
      labels: {app: %[1]s}
      annotations: {config-version: %[4]q}
    spec:
      containers:
      - name: web
        image: registry.example.com/web:1.4.2
        ports:
        - containerPort: 8080
        envFrom:
        - configMapRef: {name: %[1]s}
---
`, name, v, benchLabel, template)
	}
	return b.String()
}

// benchConfig is .tugboat.yaml for the benchmarks: staging on comment,
// prod on merge after staging.
func benchConfig(ns string) string {
	return fmt.Sprintf(`version: 1
environments:
  staging:
    cluster: staging
    path: deploy/staging
    namespace: %[1]s
    apply: on-comment
    wait: 5m
  prod:
    cluster: prod
    path: deploy/prod
    namespace: %[1]s
    apply: on-merge
    after: [staging]
    wait: 5m
`, ns)
}

// benchWorld is a world whose main branch and both clusters hold the
// benchmark's 200 objects per environment at version "v0".
type benchWorld struct {
	*world
	b *testing.B
	// main is the repository's main branch as the bot sees it.
	main map[string]string
	// trace, when TUGBOAT_BENCH_TRACE is set, collects the emulator's log
	// (every request the bot makes and every delivery, with its latency)
	// stamped with the time since the measurement began: where a
	// measured run spends its time, for profiling.
	trace *tracer
}

// tracer collects emulator log lines during one measurement.
type tracer struct {
	mu    sync.Mutex
	start time.Time
	lines []string
}

func (t *tracer) logf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.start.IsZero() {
		t.lines = append(t.lines, fmt.Sprintf("%8.3fs %s", time.Since(t.start).Seconds(), fmt.Sprintf(format, args...)))
	}
}

// begin starts a traced measurement.
func (t *tracer) begin() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.start, t.lines = time.Now(), nil
}

// end prints what was traced since begin.
func (t *tracer) end(what string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Printf("trace of %s:\n%s\n", what, strings.Join(t.lines, "\n"))
	t.start, t.lines = time.Time{}, nil
}

// slowProxy serves the emulator's API with rtt added to every request, as
// github.com's round trips (100–300 ms from most places) would: the
// emulator answers in milliseconds, so sequential requests that cost
// seconds in production cost nothing here. Tarball downloads are
// redirected to the emulator itself and not slowed.
func slowProxy(b *testing.B, emulator string, rtt time.Duration) string {
	target, err := url.Parse(emulator)
	if err != nil {
		b.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(rtt)
		proxy.ServeHTTP(w, r)
	}))
	b.Cleanup(srv.Close)
	return srv.URL
}

func newBenchWorld(b *testing.B) *benchWorld {
	w := &benchWorld{b: b}
	nsFiles := func(ns string) map[string]string {
		return map[string]string{
			".tugboat.yaml":           benchConfig(ns),
			"deploy/staging/web.yaml": benchFile("v0"),
			"deploy/prod/web.yaml":    benchFile("v0"),
		}
	}
	o := options{nsFiles: nsFiles}
	if os.Getenv("TUGBOAT_BENCH_TRACE") != "" {
		w.trace = &tracer{}
		o.ghOpts = []githubtest.Option{githubtest.WithLogf(w.trace.logf)}
	}
	if rtt := os.Getenv("TUGBOAT_BENCH_GITHUB_RTT"); rtt != "" {
		d, err := time.ParseDuration(rtt)
		if err != nil {
			b.Fatalf("TUGBOAT_BENCH_GITHUB_RTT: %v", err)
		}
		o.githubVia = func(emulator string) string { return slowProxy(b, emulator, d) }
		fmt.Printf("every GitHub API request of the bot takes %s longer (TUGBOAT_BENCH_GITHUB_RTT)\n", d)
	}
	w.world = newWorld(b, o)
	w.main = mergeMaps(baseFiles(w.ns), nsFiles(w.ns))
	w.gh.SetPermission(w.repo, "carol", "write")
	// Both environments start converged at v0, applied by the CLI under the
	// bot's ApplySet, so every measured change is 200 updates.
	if out, err := w.botApply(w.main, "--all"); err != nil {
		b.Fatalf("initial bot apply: %v\n%s", err, tail(out))
	}
	return w
}

// botApply runs `bot apply --yes` on a checkout holding files, as the
// repository's ApplySet (the bot's own).
func (w *benchWorld) botApply(files map[string]string, envArgs ...string) (string, error) {
	dir := w.b.TempDir()
	for name, data := range files {
		writeFile(w.b, filepath.Join(dir, name), data)
	}
	args := append([]string{"apply", "--repo", dir, "--config", w.bot.config, "--repo-name", w.repo, "--yes"}, envArgs...)
	out, err := exec.Command(botBin, args...).CombinedOutput()
	return string(out), err
}

// applyOnComment opens a PR setting staging to version v, has carol
// approve it, and measures `/apply staging` → tugboat/apply/staging
// success. It then merges the PR (main holds v; nothing is left to deploy)
// and waits until the merge is handled and the lock released.
func (w *benchWorld) applyOnComment(v string) time.Duration {
	w.b.Helper()
	file := "deploy/staging/web.yaml"
	n, sha := w.openPR("apply-"+v, map[string]string{file: benchFile(v)})
	w.waitPlanned(sha, "staging")
	w.gh.Approve(w.repo, n, "carol")
	waitIdle(w.b, w.world)

	w.trace.begin()
	start := time.Now()
	w.gh.Comment(w.repo, n, "alice", "/apply staging")
	w.waitStatusFast(sha, "tugboat/apply/staging", 5*time.Minute)
	took := time.Since(start)
	w.trace.end("/apply " + v)
	w.checkConverged(staging, v)

	w.gh.Merge(w.repo, n, "alice")
	w.main[file] = benchFile(v)
	w.waitFor("the merge handled and the lock released", 2*time.Minute, func() bool { return w.lockHolder(staging, "staging") == "" })
	waitIdle(w.b, w.world)
	return took
}

// waitStatusFast waits for the newest status of context on sha to be
// success, polling every few milliseconds (it is a measurement).
func (w *benchWorld) waitStatusFast(sha, context string, timeout time.Duration) {
	w.b.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var newest *githubtest.Status
		for _, s := range w.gh.Statuses(w.repo, sha) {
			if s.Context == context && (newest == nil || s.ID > newest.ID) {
				newest = &s
			}
		}
		switch {
		case newest != nil && newest.State == "success":
			return
		case newest != nil && newest.State != "pending":
			w.b.Fatalf("status %s on %s is %s: %s\n%s", context, sha[:7], newest.State, newest.Description, tail(w.bot.logs.String()))
		case time.Now().After(deadline):
			w.b.Fatalf("timed out waiting for status %s on %s:\n%s", context, sha[:7], tail(w.bot.logs.String()))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkConverged checks, as a user with kubectl would, that the world's
// namespace in c holds the benchmark's objects at version v, rolled out.
func (w *benchWorld) checkConverged(c *kubetest.Cluster, v string) {
	w.b.Helper()
	if err := rolledOut(c, w.ns, v); err != nil {
		w.b.Fatal(err)
	}
}

// rolledOut says how the benchmark's objects in namespace ns of c differ
// from version v, rolled out (nil when they don't).
func rolledOut(c *kubetest.Cluster, ns, v string) error {
	ctx := context.Background()
	sel := metav1.ListOptions{LabelSelector: benchLabel + "=1"}
	cms, err := c.Client().CoreV1().ConfigMaps(ns).List(ctx, sel)
	if err != nil {
		return fmt.Errorf("list ConfigMaps in %s: %w", c.Name(), err)
	}
	deps, err := c.Client().AppsV1().Deployments(ns).List(ctx, sel)
	if err != nil {
		return fmt.Errorf("list Deployments in %s: %w", c.Name(), err)
	}
	if len(cms.Items) != benchPairs || len(deps.Items) != benchPairs {
		return fmt.Errorf("%s/%s holds %d ConfigMaps and %d Deployments, want %d each", c.Name(), ns, len(cms.Items), len(deps.Items), benchPairs)
	}
	for _, cm := range cms.Items {
		if cm.Data["version"] != v || cm.Labels["app.kubernetes.io/version"] != v {
			return fmt.Errorf("ConfigMap %s/%s in %s has version %q, want %q", ns, cm.Name, c.Name(), cm.Data["version"], v)
		}
	}
	for _, d := range deps.Items {
		var i int
		if _, err := fmt.Sscanf(d.Name, "web-%d", &i); err != nil {
			return fmt.Errorf("unexpected Deployment %s/%s in %s", ns, d.Name, c.Name())
		}
		template := "stable"
		if i < benchRollouts {
			template = v
		}
		st := d.Status
		if d.Labels["app.kubernetes.io/version"] != v || d.Spec.Template.Annotations["config-version"] != template ||
			st.ObservedGeneration != d.Generation || st.UpdatedReplicas != 1 || st.AvailableReplicas != 1 || st.Replicas != 1 {
			return fmt.Errorf("Deployment %s/%s in %s not rolled out to %s: label %q, template %q, generation %d observed %d, replicas %d updated %d available %d",
				ns, d.Name, c.Name(), v, d.Labels["app.kubernetes.io/version"], d.Spec.Template.Annotations["config-version"],
				d.Generation, st.ObservedGeneration, st.Replicas, st.UpdatedReplicas, st.AvailableReplicas)
		}
	}
	return nil
}

// kubectlEnv is the same 200 objects managed by kubectl alone, in a
// namespace of its own in the staging cluster.
type kubectlEnv struct {
	b   *testing.B
	ns  string
	dir string
}

// newKubectlEnv creates the objects at version v0 as kubectl's field
// manager would (server-side apply as "kubectl"), but concurrently:
// `kubectl apply` of 200 objects takes most of a minute here, and only the
// change is measured.
func newKubectlEnv(b *testing.B, ns string) *kubectlEnv {
	if _, err := exec.LookPath("kubectl"); err != nil {
		b.Fatalf("kubectl not installed: %v", err)
	}
	ctx := context.Background()
	cs := staging.Client()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		b.Fatalf("create namespace %s: %v", ns, err)
	}
	docs := strings.Split(benchFile("v0"), "---\n")
	errs := make(chan error, len(docs))
	sem := make(chan struct{}, 8)
	force := true
	opts := metav1.PatchOptions{FieldManager: "kubectl", Force: &force}
	for _, doc := range docs {
		if strings.TrimSpace(doc) == "" {
			errs <- nil
			continue
		}
		go func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			data, err := yaml.YAMLToJSON([]byte(doc))
			if err != nil {
				errs <- err
				return
			}
			var meta struct {
				Kind     string
				Metadata struct{ Name string }
			}
			if err := json.Unmarshal(data, &meta); err != nil {
				errs <- err
				return
			}
			if meta.Kind == "ConfigMap" {
				_, err = cs.CoreV1().ConfigMaps(ns).Patch(ctx, meta.Metadata.Name, types.ApplyPatchType, data, opts)
			} else {
				_, err = cs.AppsV1().Deployments(ns).Patch(ctx, meta.Metadata.Name, types.ApplyPatchType, data, opts)
			}
			errs <- err
		}()
	}
	for range docs {
		if err := <-errs; err != nil {
			b.Fatalf("create kubectl's objects: %v", err)
		}
	}
	deadline := time.Now().Add(3 * time.Minute)
	for err := rolledOut(staging, ns, "v0"); err != nil; err = rolledOut(staging, ns, "v0") {
		if time.Now().After(deadline) {
			b.Fatalf("kubectl's objects not rolled out: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return &kubectlEnv{b: b, ns: ns, dir: b.TempDir()}
}

// apply runs `kubectl apply --server-side` of version v and waits for the
// rollout. `kubectl wait --for=condition=Available` would return at once:
// a rolling update keeps its Deployment Available throughout. `kubectl
// rollout status` is kubectl's wait for a rollout.
func (k *kubectlEnv) apply(v string) time.Duration {
	file := filepath.Join(k.dir, v+".yaml")
	if err := os.WriteFile(file, []byte(benchFile(v)), 0o600); err != nil {
		k.b.Fatal(err)
	}
	start := time.Now()
	for _, args := range [][]string{
		{"apply", "--server-side", "-n", k.ns, "-f", file},
		{"rollout", "status", "deployment", "-n", k.ns, "-l", benchLabel + "=1", "--timeout=5m"},
	} {
		out, err := exec.Command("kubectl", append([]string{"--kubeconfig", staging.Kubeconfig()}, args...)...).CombinedOutput()
		if err != nil {
			k.b.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, tail(string(out)))
		}
	}
	took := time.Since(start)
	if err := rolledOut(staging, k.ns, v); err != nil {
		k.b.Fatal(err)
	}
	return took
}

// BenchmarkApplyOnComment measures `/apply staging` → status
// tugboat/apply/staging success for a change of 200 objects (100
// ConfigMaps, 100 Deployments of which 10 roll out), against the same
// change made by `bot apply --yes` (the real binary, same cluster) and by
// `kubectl apply --server-side` + `kubectl rollout status` in the same run.
// Target: /apply's overhead over `bot apply` ≤ 1.0 s (medians of 5).
//
// `bot apply` plans twice (it prints the plan, then the applier re-plans
// it) where /apply re-plans once (its first plan was the pull request's):
// the overhead is what the GitHub round trips, the lock and the reports
// cost beyond that one plan. TUGBOAT_BENCH_GITHUB_RTT=100ms gives the
// round trips github.com's latency; TUGBOAT_BENCH_TRACE=1 shows them.
func BenchmarkApplyOnComment(b *testing.B) {
	w := newBenchWorld(b)
	k := newKubectlEnv(b, w.ns+"-k")
	for i := 0; i < b.N; i++ {
		var gh, cli, diff []time.Duration
		for r := range benchRuns {
			tGH := w.applyOnComment(fmt.Sprintf("a%d-%d", i, r))

			v := fmt.Sprintf("c%d-%d", i, r)
			files := mergeMaps(w.main, map[string]string{"deploy/staging/web.yaml": benchFile(v)})
			start := time.Now()
			out, err := w.botApply(files, "--env", "staging")
			tCLI := time.Since(start)
			if err != nil {
				b.Fatalf("bot apply: %v\n%s", err, tail(out))
			}
			w.checkConverged(staging, v)

			gh, cli, diff = append(gh, tGH), append(cli, tCLI), append(diff, tGH-tCLI)
			fmt.Printf("  run %d: /apply %.2fs, bot apply %.2fs\n", r+1, tGH.Seconds(), tCLI.Seconds())
		}
		// kubectl runs once: it takes half a minute or more here.
		mK := k.apply(fmt.Sprintf("k%d", i))
		mGH, mCLI := median(gh), median(cli)
		overhead := mGH - mCLI
		b.ReportMetric(mGH.Seconds(), "s/apply-comment")
		b.ReportMetric(mCLI.Seconds(), "s/bot-apply")
		b.ReportMetric(overhead.Seconds(), "s/overhead")
		fmt.Printf(`
BenchmarkApplyOnComment: 200 objects changed in staging (100 ConfigMaps, 100 Deployments, %d of them rolled out); medians of %d, kubectl once
| contender                                        | time     | ratio to kubectl |
|--------------------------------------------------|----------|------------------|
| kubectl apply --server-side + rollout status     | %7.2fs | 1.00             |
| bot apply --yes (plan, apply, wait)              | %7.2fs | %4.2f             |
| /apply comment → tugboat/apply/staging success   | %7.2fs | %4.2f             |
/apply overhead over bot apply: %.2fs (difference of medians; median of paired differences %.2fs; target ≤ 1.00s)
(bot apply plans twice, printing the plan first; /apply re-plans once, its first plan was the PR's)
`, benchRollouts, benchRuns, mK.Seconds(), mCLI.Seconds(), mCLI.Seconds()/mK.Seconds(), mGH.Seconds(), mGH.Seconds()/mK.Seconds(),
			overhead.Seconds(), median(diff).Seconds())
	}
}

// BenchmarkMergeDeploysBoth measures a merge → both environments converged
// (staging, then prod after it), 200 objects changed in each, against one
// environment's `/apply` in the same run. Target: ≤ 2.2 × the /apply time
// (medians of 5).
func BenchmarkMergeDeploysBoth(b *testing.B) {
	w := newBenchWorld(b)
	for i := 0; i < b.N; i++ {
		var one, both []time.Duration
		for r := range benchRuns {
			tOne := w.applyOnComment(fmt.Sprintf("a%d-%d", i, r))

			v := fmt.Sprintf("m%d-%d", i, r)
			change := map[string]string{"deploy/staging/web.yaml": benchFile(v), "deploy/prod/web.yaml": benchFile(v)}
			n, sha := w.openPR("merge-"+v, change)
			w.waitPlanned(sha, "staging", "prod")
			w.gh.Approve(w.repo, n, "carol")
			waitIdle(b, w.world)
			before := len(w.botComments(n))
			w.trace.begin()
			start := time.Now()
			merged := w.gh.Merge(w.repo, n, "alice")
			w.waitStatusFast(merged, "tugboat/apply/staging", 5*time.Minute)
			tStaging := time.Since(start)
			w.waitStatusFast(merged, "tugboat/apply/prod", 5*time.Minute)
			tBoth := time.Since(start)
			w.trace.end("merge " + v)
			w.main = mergeMaps(w.main, change)
			w.checkConverged(staging, v)
			w.checkConverged(prod, v)
			// The deploy ends with a result comment per environment.
			w.waitFor("both result comments", time.Minute, func() bool { return len(w.botComments(n)) >= before+2 })
			waitIdle(b, w.world)

			one, both = append(one, tOne), append(both, tBoth)
			fmt.Printf("  run %d: /apply staging %.2fs; merge → staging %.2fs, → both %.2fs\n", r+1, tOne.Seconds(), tStaging.Seconds(), tBoth.Seconds())
		}
		mOne, mBoth := median(one), median(both)
		b.ReportMetric(mOne.Seconds(), "s/apply-comment")
		b.ReportMetric(mBoth.Seconds(), "s/merge-both")
		b.ReportMetric(mBoth.Seconds()/mOne.Seconds(), "merge/apply")
		fmt.Printf(`
BenchmarkMergeDeploysBoth: 200 objects changed per environment (100 ConfigMaps, 100 Deployments, %d of them rolled out), medians of %d
| what                                              | median   |
|---------------------------------------------------|----------|
| /apply comment → tugboat/apply/staging success    | %7.2fs |
| merge → staging and then prod (after: [staging]) | %7.2fs |
merge / one environment's /apply: %.2f (target ≤ 2.20)
`, benchRollouts, benchRuns, mOne.Seconds(), mBoth.Seconds(), mBoth.Seconds()/mOne.Seconds())
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}
