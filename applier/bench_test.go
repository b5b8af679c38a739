package applier

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/tugboatops/tugboat/internal/benchtest"
	"github.com/tugboatops/tugboat/internal/kubetest"
)

// benchManifests is the benchmark's environment: a Namespace, 500
// Deployments and 500 ConfigMaps.
func benchManifests(ns string) []string {
	docs := []string{namespaceYAML(ns)}
	for i := range 500 {
		docs = append(docs, deploymentYAML(ns, fmt.Sprintf("app-%03d", i), "nginx:1.27", 1))
		docs = append(docs, configMapYAML(ns, fmt.Sprintf("cfg-%03d", i), map[string]string{"index": fmt.Sprint(i)}))
	}
	return docs
}

// BenchmarkApply1000 applies 1,001 objects into an empty cluster and waits
// until every Deployment is Available, with tugboat's applier, with `bot
// apply --yes` as a whole process, and with `kubectl apply --server-side`
// plus `kubectl wait`, each on a fresh cluster of its own in the same run.
// It prints both phases for all, their ratios, and a re-apply of the
// unchanged set against the planner's time for it; the cluster's own
// convergence floor (convergenceFloor), which bounds every contender; then
// the process, kubectl and the floor again on clusters with API Priority
// and Fairness on, as real clusters run. The process and the floor are
// medians of benchRuns runs, alternated; kubectl runs once per scenario.
func BenchmarkApply1000(b *testing.B) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		b.Fatalf("kubectl not installed: %v", err)
	}
	docs := benchManifests(benchNamespace)
	for range b.N {
		off := applyBench(b, docs, false)
		on := applyBench(b, docs, true)

		ratio := func(a, b time.Duration) float64 { return a.Seconds() / b.Seconds() }
		k, kOn := off.kApply+off.kWait, on.kApply+on.kWait
		b.ReportMetric(ratio(off.tApply, off.kApply), "apply-ratio")
		b.ReportMetric(ratio(off.tApply+off.tWait, k), "total-ratio")
		b.ReportMetric(ratio(off.tReapply, off.tPlan), "reapply/plan")
		b.ReportMetric(ratio(off.process, k), "bot-apply/kubectl")
		b.ReportMetric(ratio(on.process, kOn), "apf-bot-apply/kubectl")
		b.ReportMetric(ratio(off.process, off.floor), "bot-apply/floor")
		b.ReportMetric(ratio(on.process, on.floor), "apf-bot-apply/floor")
		b.ReportMetric(ratio(off.floor, k), "floor/kubectl")
		fmt.Printf(`
BenchmarkApply1000: 1,001 objects (500 Deployments, 500 ConfigMaps, 1 Namespace), empty cluster each
API Priority and Fairness off (kubetest's default):
| phase                    | tugboat  | kubectl  | ratio | target |
|--------------------------|----------|----------|-------|--------|
| apply (tugboat: re-plan %4.1fs, writes %4.1fs) | %7.1fs | %7.1fs | %5.2f | ≤ 0.30 |
| wait until Available     | %7.1fs | %7.1fs | %5.2f |        |
| total                    | %7.1fs | %7.1fs | %5.2f | ≤ 0.70 |
| bot apply --yes (the whole process: plan, re-plan, apply, wait) | %7.1fs | %7.1fs | %5.3f | ≤ 0.10 |
| re-apply unchanged vs plan | %7.1fs | plan %5.1fs | %5.2f | ≤ 1.50 |
| floor: the cluster's own (bare creates %4.1fs, then all Current) vs kubectl | %7.1fs | %7.1fs | %5.3f | (no apply beats it) |
| bot apply --yes vs floor   | %7.1fs | floor %5.1fs | %5.2f |        |
bot apply phases (median run): %s
runs:
%s
API Priority and Fairness on, at its defaults (as real clusters run):
| bot apply --yes (the whole process) vs kubectl apply + wait | %7.1fs | %7.1fs (apply %.1fs, wait %.1fs) | %5.3f | ≤ 0.10 |
| floor (bare creates %4.1fs, then all Current) vs kubectl | %7.1fs | %7.1fs | %5.3f | (no apply beats it) |
| bot apply --yes vs floor   | %7.1fs | floor %5.1fs | %5.2f |        |
bot apply phases (median run): %s
runs:
%s
kubectl once per scenario; bot apply and floor: medians of %d
`, off.planTime.Seconds(), off.writeTime.Seconds(), off.tApply.Seconds(), off.kApply.Seconds(), ratio(off.tApply, off.kApply),
			off.tWait.Seconds(), off.kWait.Seconds(), ratio(off.tWait, off.kWait),
			(off.tApply + off.tWait).Seconds(), k.Seconds(), ratio(off.tApply+off.tWait, k),
			off.process.Seconds(), k.Seconds(), ratio(off.process, k),
			off.tReapply.Seconds(), off.tPlan.Seconds(), ratio(off.tReapply, off.tPlan),
			off.floorWrites.Seconds(), off.floor.Seconds(), k.Seconds(), ratio(off.floor, k),
			off.process.Seconds(), off.floor.Seconds(), ratio(off.process, off.floor), off.phases, strings.Join(off.runs, "\n"),
			on.process.Seconds(), kOn.Seconds(), on.kApply.Seconds(), on.kWait.Seconds(), ratio(on.process, kOn),
			on.floorWrites.Seconds(), on.floor.Seconds(), kOn.Seconds(), ratio(on.floor, kOn),
			on.process.Seconds(), on.floor.Seconds(), ratio(on.process, on.floor), on.phases, strings.Join(on.runs, "\n"), benchRuns)
	}
}

const benchNamespace = "bench"

// applyTimes are one round's figures; the in-process applier's are only
// measured with APF off.
type applyTimes struct {
	tApply, tWait, planTime, writeTime, tReapply, tPlan time.Duration
	process                                             time.Duration
	kApply, kWait                                       time.Duration
	// floor and floorWrites: the cluster's own convergence floor
	// (convergenceFloor) and its creates alone.
	floor, floorWrites time.Duration
	// phases: the phases of the median process run (botApplyRun.phases);
	// runs: every process and floor run.
	phases string
	runs   []string
}

// benchRuns is how many times the process and the floor run in each
// scenario (kubectl, ten times slower, runs once).
const benchRuns = 3

func applyBench(b *testing.B, docs []string, apf bool) applyTimes {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Minute)
	defer cancel()
	var t applyTimes
	suffix := ""
	var opts []kubetest.Option
	if apf {
		suffix = "-apf"
		opts = append(opts, kubetest.WithPriorityAndFairness())
	}
	opts = append(opts, kubetest.WithUsers(benchtest.User))
	fresh := func(name string) *kubetest.Cluster {
		c, err := kubetest.New(ctx, append([]kubetest.Option{kubetest.WithName(name + suffix)}, opts...)...)
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	// The process, the floor and kubectl act as benchtest.User: kubetest's
	// admin is exempt from API Priority and Fairness, a real tool is not.
	user := func(c *kubetest.Cluster) (string, *rest.Config) {
		kubeconfig, cfg, err := benchtest.AsUser(ctx, c)
		if err != nil {
			c.Close()
			b.Fatal(err)
		}
		return kubeconfig, cfg
	}

	if !apf {
		// tugboat's applier in this process
		ca := fresh("bench-tugboat")
		e := newTestEnv(b, "acme/bench", "bench", ca.RESTConfig())
		e.in.Env.Wait = 15 * time.Minute
		e.put("all.yaml", docs...)
		shown := e.plan(ctx)
		t0 := time.Now()
		res, err := e.applier.Apply(ctx, shown.Digest, e.in, Options{})
		tTotal := time.Since(t0)
		if err != nil || !res.Converged() {
			ca.Close()
			b.Fatalf("tugboat apply: %v\n%s", err, reportString(res))
		}
		// Everything but the wait counts as applying: the re-plan, the
		// access review, the ApplySet record and the writes.
		t.tWait = res.WaitTime
		t.tApply = tTotal - t.tWait
		t.planTime, t.writeTime = res.PlanTime, res.ApplyTime
		// Re-apply of the unchanged set against the planner's time for it.
		t0 = time.Now()
		again := e.plan(ctx)
		t.tPlan = time.Since(t0)
		t0 = time.Now()
		res2, err := e.applier.Apply(ctx, again.Digest, e.in, Options{})
		t.tReapply = time.Since(t0)
		ca.Close()
		if err != nil || len(res2.Writes) != 0 {
			b.Fatalf("re-apply: %v, %d writes", err, len(res2.Writes))
		}
	}

	// `bot apply` as a process, and the cluster's own floor (no apply can
	// end sooner), alternated benchRuns times on fresh clusters: the
	// machine's load moves each by tens of percent, so medians count.
	var procs, floors, floorWrites []time.Duration
	var runs []botApplyRun
	for i := range benchRuns {
		cp := fresh(fmt.Sprintf("bench-bot-%d", i))
		kubeconfig, _ := user(cp)
		run, err := botApplyProcess(ctx, b, kubeconfig, docs)
		cp.Close()
		if err != nil {
			b.Fatal(err)
		}
		procs, runs = append(procs, run.took), append(runs, run)
		t.runs = append(t.runs, fmt.Sprintf("bot apply %d: %s (load %s)", i, run.phases(), loadAverage()))

		cf := fresh(fmt.Sprintf("bench-floor-%d", i))
		_, cfg := user(cf)
		writes, total, err := convergenceFloor(ctx, cfg, docs)
		cf.Close()
		if err != nil {
			b.Fatal(err)
		}
		floors, floorWrites = append(floors, total), append(floorWrites, writes)
		t.runs = append(t.runs, fmt.Sprintf("floor %d: bare creates %.1fs, all Current %.1fs (load %s)", i, writes.Seconds(), total.Seconds(), loadAverage()))
	}
	t.process, t.floor, t.floorWrites = benchtest.Median(procs), benchtest.Median(floors), benchtest.Median(floorWrites)
	for _, r := range runs {
		if r.took == t.process {
			t.phases = r.phases()
		}
	}

	// kubectl
	cb := fresh("bench-kubectl")
	defer cb.Close()
	kubeconfig, _ := user(cb)
	file := filepath.Join(b.TempDir(), "all.yaml")
	if err := os.WriteFile(file, []byte(strings.Join(docs, "\n---\n")), 0o600); err != nil {
		b.Fatal(err)
	}
	kubectl := func(args ...string) (time.Duration, error) {
		t0 := time.Now()
		out, err := exec.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig", kubeconfig}, args...)...).CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("kubectl %s: %v\n%s", strings.Join(args, " "), err, tail(string(out)))
		}
		return time.Since(t0), nil
	}
	var err error
	if t.kApply, err = kubectl("apply", "--server-side", "-f", file); err != nil {
		b.Fatal(err)
	}
	if t.kWait, err = kubectl("wait", "--for=condition=Available", "deployment", "--all", "-n", benchNamespace, "--timeout=15m"); err != nil {
		b.Fatal(err)
	}
	return t
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}
