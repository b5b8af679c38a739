package applier

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/internal/benchtest"
	"github.com/tugboatops/tugboat/internal/kubetest"
)

// BenchmarkApplyPhases is the quick look at where `bot apply --yes` spends
// its wall time, on 200 (or, as BenchmarkApply1000 has them, 500)
// Deployments and as many ConfigMaps, in minutes where BenchmarkApply1000
// takes 25: the process's phases as its output shows them, against the
// cluster's own convergence floor (convergenceFloor), each on a fresh
// cluster, alternated, three times; it prints every run and the medians.
// Run one size with -bench 'BenchmarkApplyPhases/200'.
func BenchmarkApplyPhases(b *testing.B) {
	for _, n := range []int{200, 500} {
		b.Run(fmt.Sprint(n), func(b *testing.B) { benchApplyPhases(b, n) })
	}
}

func benchApplyPhases(b *testing.B, n int) {
	const runs = benchRuns
	docs := []string{namespaceYAML(benchNamespace)}
	for i := range n {
		docs = append(docs, deploymentYAML(benchNamespace, fmt.Sprintf("app-%03d", i), "nginx:1.27", 1))
		docs = append(docs, configMapYAML(benchNamespace, fmt.Sprintf("cfg-%03d", i), map[string]string{"index": fmt.Sprint(i)}))
	}
	for range b.N {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		var procs, floors, floorWrites []time.Duration
		var lines []string
		for i := range runs {
			c, err := kubetest.New(ctx, kubetest.WithName(fmt.Sprintf("phases-bot-%d", i)))
			if err != nil {
				b.Fatal(err)
			}
			run, err := botApplyProcess(ctx, b, c.Kubeconfig(), docs)
			c.Close()
			if err != nil {
				b.Fatal(err)
			}
			procs = append(procs, run.took)
			lines = append(lines, fmt.Sprintf("bot apply %d: %s (load %s)", i, run.phases(), loadAverage()))
			fmt.Println(lines[len(lines)-1])

			c, err = kubetest.New(ctx, kubetest.WithName(fmt.Sprintf("phases-floor-%d", i)))
			if err != nil {
				b.Fatal(err)
			}
			writes, total, err := convergenceFloor(ctx, c.RESTConfig(), docs)
			c.Close()
			if err != nil {
				b.Fatal(err)
			}
			floors, floorWrites = append(floors, total), append(floorWrites, writes)
			lines = append(lines, fmt.Sprintf("floor %d: creates %.1fs, all Current %.1fs (load %s)", i, writes.Seconds(), total.Seconds(), loadAverage()))
			fmt.Println(lines[len(lines)-1])
		}
		cancel()
		mp, mf := benchtest.Median(procs), benchtest.Median(floors)
		b.ReportMetric(mp.Seconds(), "bot-apply-s")
		b.ReportMetric(mf.Seconds(), "floor-s")
		b.ReportMetric(mp.Seconds()/mf.Seconds(), "bot-apply/floor")
		fmt.Printf("\nBenchmarkApplyPhases: %d Deployments + %d ConfigMaps, fresh cluster each, medians of %d\n%s\n"+
			"| bot apply --yes (whole process) | %5.1fs |\n| floor (creates %4.1fs, then Current) | %5.1fs |\n| bot apply / floor | %5.2f |\n",
			n, n, runs, strings.Join(lines, "\n"), mp.Seconds(), benchtest.Median(floorWrites).Seconds(), mf.Seconds(), mp.Seconds()/mf.Seconds())
	}
}

// loadAverage is the machine's 1-minute load average (uptime), for the
// record: the machine is shared and its load moves the figures.
func loadAverage() string {
	out, err := exec.Command("uptime").Output()
	if err != nil {
		return "?"
	}
	s := string(out)
	if i := strings.Index(s, "load average:"); i >= 0 {
		return strings.TrimSpace(s[i+len("load average:"):])
	}
	return strings.TrimSpace(s)
}
