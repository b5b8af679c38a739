package ops

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/tugboatops/tugboat/applier"
	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/internal/benchtest"
	"github.com/tugboatops/tugboat/internal/githubtest"
	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/planner"
)

// The drift benchmark is issue 13's figure: a drift round over 20
// environments (4 repositories × 5 environments, each in a namespace of its
// own) of 500 objects each (250 ConfigMaps, 250 ServiceAccounts), deployed
// through the real DeployPush → applier path so the ApplySet parents a
// round starts from are the real ones. It times DriftRound (median of
// driftBenchRounds), counts the Kubernetes requests one round makes (by
// verb and resource, through a counting transport on the rest config the
// bot's registry uses), compares with the raw floor (the same number of
// SSA dry-run PATCHes sent directly by a bare HTTP client), and samples the
// process's resident memory and Go heap during the rounds.
const (
	driftBenchRepos   = 4
	driftBenchEnvs    = 5 // per repository
	driftBenchObjects = 500
	driftBenchRounds  = 3
	driftBenchFloorW  = 32 // the planner's DefaultConcurrency
)

// requestCounter counts the requests through a transport by verb and
// resource ("PATCH configmaps (dry-run)", "LIST serviceaccounts", …).
type requestCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *requestCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		c.mu.Lock()
		c.n[requestKey(req)]++
		c.mu.Unlock()
		return rt.RoundTrip(req)
	})
}

func (c *requestCounter) reset() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.n
	c.n = map[string]int{}
	return out
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// requestKey names a request by verb and resource: a GET without an object
// name is a LIST (or a WATCH), a dry-run says so; discovery is one bucket.
func requestKey(req *http.Request) string {
	parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	var rest []string
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		rest = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		rest = parts[3:]
	default:
		return req.Method + " " + req.URL.Path
	}
	if len(rest) == 0 {
		return "discovery"
	}
	if rest[0] == "namespaces" && len(rest) >= 3 {
		rest = rest[2:]
	}
	resource, named := rest[0], len(rest) >= 2
	if len(rest) >= 3 {
		resource += "/" + rest[2]
	}
	verb := req.Method
	switch {
	case req.Method == http.MethodGet && req.URL.Query().Get("watch") != "":
		verb = "WATCH"
	case req.Method == http.MethodGet && !named:
		verb = "LIST"
	}
	key := verb + " " + resource
	if req.URL.Query().Get("dryRun") != "" {
		key += " (dry-run)"
	}
	return key
}

// driftBenchFile is one environment's 500 objects, in one file.
func driftBenchFile(env string) string {
	var b strings.Builder
	for i := range driftBenchObjects / 2 {
		fmt.Fprintf(&b, `apiVersion: v1
kind: ConfigMap
metadata: {name: %[1]s-%03[2]d, labels: {app: %[1]s}}
data:
  index: "%[2]d"
  settings.yaml: |
    listen: ":8080"
    mode: production
    replicas: 3
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: %[1]s-%03[2]d, labels: {app: %[1]s}}
---
`, env, i)
	}
	return b.String()
}

type driftBench struct {
	b       *testing.B
	gh      *githubtest.Server
	factory *gh.Factory
	reg     *kube.Registry
	count   *requestCounter
	ops     *Ops
	repos   []string
	// namespaces[repo][env] is the namespace an environment deploys to.
	namespaces map[string]map[string]string
}

func newDriftBench(b *testing.B) *driftBench {
	b.Helper()
	d := &driftBench{b: b, count: &requestCounter{n: map[string]int{}}, namespaces: map[string]map[string]string{}}
	d.gh = githubtest.New(b, githubtest.WithLogf(func(string, ...any) {}))
	d.gh.CreateInstallation("acme")
	app := d.gh.App()
	m := gh.NewMetrics(prometheus.NewRegistry())
	cc := githubapp.NewClientCreator(d.gh.URL()+"/api/v3/", d.gh.URL()+"/api/graphql", app.ID, app.PrivateKeyPEM,
		githubapp.WithClientMiddleware(gh.Middleware(gh.RetryPolicy{Backoff: 10 * time.Millisecond}, m)))
	d.factory = &gh.Factory{Creator: cc, Download: &http.Client{Transport: &gh.Transport{Metrics: m}}}

	cfg := rest.CopyConfig(cluster.RESTConfig())
	// The bot's own client settings are kept; only the counter is added.
	cfg.Wrap(d.count.wrap)
	d.reg = kube.NewRegistry(nil)
	if err := d.reg.AddConfig("test", cfg); err != nil {
		b.Fatal(err)
	}
	key := []byte("0123456789abcdef0123456789abcdef")
	pl := &planner.Planner{Clusters: d.reg, DigestKey: key, Renderer: inProcess{}}
	state := &KubeState{Clusters: d.reg, Identity: "drift-bench"}
	d.ops = New(Engines{Planner: pl, Renderer: inProcess{}, Applier: &applier.Applier{Planner: pl, Clusters: d.reg}, State: state, Records: state},
		Options{BotLogin: d.gh.Bot().Login, AppID: d.gh.App().ID, WebURL: d.gh.URL(), Clients: d.factory,
			// Every round checks every environment; concurrency is the default.
			Drift: DriftOptions{Interval: time.Millisecond}})

	for r := range driftBenchRepos {
		tag := make([]byte, 3)
		rand.Read(tag)
		full := fmt.Sprintf("acme/drift-bench-%d-%s", r, hex.EncodeToString(tag))
		d.repos = append(d.repos, full)
		d.namespaces[full] = map[string]string{}
		var conf strings.Builder
		conf.WriteString("version: 1\nenvironments:\n")
		files := map[string]string{}
		for e := range driftBenchEnvs {
			env := fmt.Sprintf("env%d", e)
			ns := benchNamespace(b)
			d.namespaces[full][env] = ns
			fmt.Fprintf(&conf, "  %[1]s:\n    cluster: test\n    path: deploy/%[1]s\n    namespace: %[2]s\n    apply: on-merge\n    requires: []\n", env, ns)
			files["deploy/"+env+"/objects.yaml"] = driftBenchFile(env)
		}
		files[".tugboat.yaml"] = conf.String()
		d.gh.CreateRepo(full, githubtest.RepoOptions{Files: files})
	}
	return d
}

// benchNamespace is testNamespace for a benchmark.
func benchNamespace(b *testing.B) string {
	b.Helper()
	tag := make([]byte, 3)
	rand.Read(tag)
	name := "drift-bench-" + hex.EncodeToString(tag)
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": name}}}
	body, _ := ns.MarshalJSON()
	if err := cluster.Client().CoreV1().RESTClient().Post().AbsPath("/api/v1/namespaces").Body(body).Do(context.Background()).Error(); err != nil {
		b.Fatalf("create namespace %s: %v", name, err)
	}
	return name
}

func (d *driftBench) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	d.b.Cleanup(cancel)
	return zerolog.New(io.Discard).WithContext(ctx)
}

// deploy deploys every repository's main through DeployPush, as a push
// webhook would, and checks each environment's apply status.
func (d *driftBench) deploy() {
	d.b.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(d.repos))
	for i, full := range d.repos {
		wg.Add(1)
		go func() {
			defer wg.Done()
			repo := splitFullName(full)
			client, err := d.factory.ForRepo(d.ctx(), repo)
			if err == nil {
				err = d.ops.DeployPush(d.ctx(), PushRequest{Client: client, Repo: repo, Branch: "main", SHA: d.gh.HeadSHA(full, "main"), Pusher: "alice"})
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, full := range d.repos {
		if errs[i] != nil {
			d.b.Fatalf("deploying %s: %v", full, errs[i])
		}
		head := d.gh.HeadSHA(full, "main")
		for env := range d.namespaces[full] {
			var last githubtest.Status
			for _, st := range d.gh.Statuses(full, head) {
				if st.Context == "tugboat/apply/"+env {
					last = st
				}
			}
			if last.State != "success" {
				d.b.Fatalf("deploying %s %s: status %+v", full, env, last)
			}
		}
	}
}

// checkInSync checks that every environment was found and recorded in
// sync, with its 500 objects checked: a round that skipped environments
// would be fast for the wrong reason.
func (d *driftBench) checkInSync() {
	d.b.Helper()
	c, err := d.reg.Cluster("test")
	if err != nil {
		d.b.Fatal(err)
	}
	recs, err := kube.ListRecords(context.Background(), c)
	if err != nil {
		d.b.Fatal(err)
	}
	found := 0
	for _, r := range recs {
		if _, ok := d.namespaces[r.Set.Repo][r.Set.Env]; !ok {
			continue
		}
		found++
		if r.Drift.State != kube.DriftInSync {
			d.b.Fatalf("%s %s: drift state %+v, want in sync", r.Set.Repo, r.Set.Env, r.Drift)
		}
	}
	if found != driftBenchRepos*driftBenchEnvs {
		d.b.Fatalf("%d environments recorded, want %d", found, driftBenchRepos*driftBenchEnvs)
	}
}

// BenchmarkDriftRound20x500 is issue 13's drift figure (see above). Run
// with -benchtime 1x (make bench).
func BenchmarkDriftRound20x500(b *testing.B) {
	for range b.N {
		benchDriftRound(b)
	}
}

func benchDriftRound(b *testing.B) {
	d := newDriftBench(b)
	start := time.Now()
	d.deploy()
	deployTook := time.Since(start)

	var durations []time.Duration
	var perRound []map[string]int
	base := benchtest.RSS(os.Getpid())
	stop := make(chan struct{})
	var peakRSS, peakHeap atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if rss := benchtest.RSS(os.Getpid()); rss > peakRSS.Load() {
					peakRSS.Store(rss)
				}
				metrics.Read(sample)
				if h := int64(sample[0].Value.Uint64()); h > peakHeap.Load() {
					peakHeap.Store(h)
				}
			}
		}
	}()
	for range driftBenchRounds {
		time.Sleep(time.Second) // settle, as the planner's benchmarks do
		runtime.GC()
		d.count.reset()
		t0 := time.Now()
		if err := d.ops.DriftRound(d.ctx()); err != nil {
			close(stop)
			b.Fatalf("DriftRound: %v", err)
		}
		durations = append(durations, time.Since(t0))
		perRound = append(perRound, d.count.reset())
		d.checkInSync()
	}
	close(stop)
	wg.Wait()

	// The floor: every dry-run of a round, sent by a bare client.
	fl := d.floor()
	var floors []time.Duration
	for range driftBenchRounds {
		time.Sleep(time.Second)
		t0 := time.Now()
		if err := fl.Run(driftBenchFloorW); err != nil {
			b.Fatal(err)
		}
		floors = append(floors, time.Since(t0))
	}

	md, mf := benchtest.Median(durations), benchtest.Median(floors)
	last := perRound[len(perRound)-1]
	total := 0
	for _, n := range last {
		total += n
	}
	dryRuns := 0
	for k, n := range last {
		if strings.HasSuffix(k, "(dry-run)") {
			dryRuns += n
		}
	}
	// One LIST per kind and namespace, one of the ApplySet parents, and
	// the dry-runs: what a round should cost at least. (A round also pings
	// each environment's cluster, reads its parent and records the check
	// on it: three more per environment, shown in the table below.)
	envs := driftBenchRepos * driftBenchEnvs
	ideal := envs*2 + 1 + envs*driftBenchObjects
	var rows strings.Builder
	keys := make([]string, 0, len(last))
	for k := range last {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return last[keys[i]] > last[keys[j]] || last[keys[i]] == last[keys[j]] && keys[i] < keys[j]
	})
	for _, k := range keys {
		fmt.Fprintf(&rows, "| %-40s | %6d |\n", k, last[k])
	}
	fmt.Printf(`
Drift round, %d environments × %d objects (%d repositories; %d rounds, medians; deployed in %.1f s)

| measure                                   | value |
|-------------------------------------------|-------|
| DriftRound duration (median)              | %v |
| raw floor (%d SSA dry-runs, %d workers)  | %v |
| round / floor                             | %.2f |
| Kubernetes requests per round             | %d (%d dry-runs; ideal %d = 1 LIST per kind and namespace + parents LIST + dry-runs; ratio %.3f) |
| test-process peak RSS during rounds       | %.0f MiB (%.0f MiB before; bot engines + GitHub emulator in one process) |
| peak Go heap (live objects) during rounds | %.0f MiB |

Requests of the last round, by verb and resource:

| request                                  |  count |
|------------------------------------------|--------|
%s
rounds %v, floor %v
`, envs, driftBenchObjects, driftBenchRepos, driftBenchRounds, deployTook.Seconds(),
		md.Round(time.Millisecond), dryRuns, driftBenchFloorW, mf.Round(time.Millisecond), md.Seconds()/mf.Seconds(),
		total, dryRuns, ideal, float64(total)/float64(ideal),
		mib(peakRSS.Load()), mib(base), mib(peakHeap.Load()), rows.String(), durations, floors)
	if dryRuns != envs*driftBenchObjects {
		b.Fatalf("a round sent %d dry-runs, want %d (one per object)", dryRuns, envs*driftBenchObjects)
	}
	b.ReportMetric(md.Seconds(), "round-s")
	b.ReportMetric(mf.Seconds(), "floor-s")
	b.ReportMetric(float64(total), "k8s-requests/round")
	b.ReportMetric(mib(peakRSS.Load()), "peak-rss-MiB")
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// floor is the raw floor: the SSA dry-run PATCHes of a round, built
// beforehand, sent by a bare concurrent HTTP client that discards the
// answers (no render, no live reads, no diff, no GitHub).
func (d *driftBench) floor() *benchtest.Floor {
	d.b.Helper()
	f, err := benchtest.NewFloor(cluster.RESTConfig())
	if err != nil {
		d.b.Fatal(err)
	}
	for _, full := range d.repos {
		for env, ns := range d.namespaces[full] {
			set := kube.ApplySet{Repo: full, Env: env}
			for _, doc := range strings.Split(driftBenchFile(env), "\n---\n") {
				if strings.TrimSpace(doc) == "" {
					continue
				}
				var o unstructured.Unstructured
				if err := yaml.Unmarshal([]byte(doc), &o.Object); err != nil {
					d.b.Fatal(err)
				}
				o.SetNamespace(ns)
				body, err := planner.PrepareForApply(&o, set.MemberLabels(), nil).MarshalJSON()
				if err != nil {
					d.b.Fatal(err)
				}
				gvr := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
				if o.GetKind() == "ServiceAccount" {
					gvr.Resource = "serviceaccounts"
				}
				f.Add(benchtest.DryRunApplyPath(gvr, ns, o.GetName(), kube.FieldManager), body)
			}
		}
	}
	return f
}
