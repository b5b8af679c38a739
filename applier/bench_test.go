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
// until every Deployment is Available, with tugboat and, on a second fresh
// cluster in the same run, with `kubectl apply --server-side` and `kubectl
// wait`. It prints both phases for both, their ratios, and a re-apply of the
// unchanged set against the planner's time for it.
func BenchmarkApply1000(b *testing.B) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		b.Fatalf("kubectl not installed: %v", err)
	}
	const ns = "bench"
	docs := benchManifests(ns)
	for range b.N {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)

		// tugboat
		ca, err := kubetest.New(ctx, kubetest.WithName("bench-tugboat"))
		if err != nil {
			b.Fatal(err)
		}
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
		tWait := res.WaitTime
		tApply := tTotal - tWait
		// Re-apply of the unchanged set against the planner's time for it.
		t0 = time.Now()
		again := e.plan(ctx)
		tPlan := time.Since(t0)
		t0 = time.Now()
		res2, err := e.applier.Apply(ctx, again.Digest, e.in, Options{})
		tReapply := time.Since(t0)
		if err != nil || len(res2.Writes) != 0 {
			ca.Close()
			b.Fatalf("re-apply: %v, %d writes", err, len(res2.Writes))
		}
		ca.Close()

		// kubectl
		cb, err := kubetest.New(ctx, kubetest.WithName("bench-kubectl"))
		if err != nil {
			b.Fatal(err)
		}
		file := filepath.Join(b.TempDir(), "all.yaml")
		if err := os.WriteFile(file, []byte(strings.Join(docs, "\n---\n")), 0o600); err != nil {
			cb.Close()
			b.Fatal(err)
		}
		kubectl := func(args ...string) (time.Duration, error) {
			t0 := time.Now()
			out, err := exec.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig", cb.Kubeconfig()}, args...)...).CombinedOutput()
			if err != nil {
				return 0, fmt.Errorf("kubectl %s: %v\n%s", strings.Join(args, " "), err, tail(string(out)))
			}
			return time.Since(t0), nil
		}
		kApply, err := kubectl("apply", "--server-side", "-f", file)
		if err != nil {
			cb.Close()
			b.Fatal(err)
		}
		kWait, err := kubectl("wait", "--for=condition=Available", "deployment", "--all", "-n", ns, "--timeout=15m")
		cb.Close()
		if err != nil {
			b.Fatal(err)
		}
		cancel()

		ratio := func(a, b time.Duration) float64 { return a.Seconds() / b.Seconds() }
		b.ReportMetric(ratio(tApply, kApply), "apply-ratio")
		b.ReportMetric(ratio(tApply+tWait, kApply+kWait), "total-ratio")
		b.ReportMetric(ratio(tReapply, tPlan), "reapply/plan")
		fmt.Printf(`
BenchmarkApply1000: 1,001 objects (500 Deployments, 500 ConfigMaps, 1 Namespace), empty cluster each
| phase                    | tugboat  | kubectl  | ratio | target |
|--------------------------|----------|----------|-------|--------|
| apply (tugboat: re-plan %4.1fs, writes %4.1fs) | %7.1fs | %7.1fs | %5.2f | ≤ 0.30 |
| wait until Available     | %7.1fs | %7.1fs | %5.2f |        |
| total                    | %7.1fs | %7.1fs | %5.2f | ≤ 0.70 |
| re-apply unchanged vs plan | %7.1fs | plan %5.1fs | %5.2f | ≤ 1.50 |
`, res.PlanTime.Seconds(), res.ApplyTime.Seconds(), tApply.Seconds(), kApply.Seconds(), ratio(tApply, kApply),
			tWait.Seconds(), kWait.Seconds(), ratio(tWait, kWait),
			(tApply + tWait).Seconds(), (kApply + kWait).Seconds(), ratio(tApply+tWait, kApply+kWait),
			tReapply.Seconds(), tPlan.Seconds(), ratio(tReapply, tPlan))
	}
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}
