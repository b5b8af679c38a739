package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The real `bot serve` side of issue 13's drift figure (the ops package's
// BenchmarkDriftRound20x500 counts the requests of a round and compares it
// with the raw floor): 20 environments of 500 objects each (250 ConfigMaps,
// 250 ServiceAccounts, a namespace each, in the prod cluster), deployed by
// the bot on a push to main, then checked by the bot's own drift rounds
// every driftBenchInterval. The rounds are timed from the bot's log ("drift
// round done", with the environments checked and how long it took) and the
// resident memory of the bot and its render children is sampled from /proc
// throughout. Target: ≤ 300 MiB.
const (
	driftBenchEnvCount = 20
	driftBenchPerEnv   = 500
	driftBenchInterval = 30 * time.Second
	driftBenchRounds   = 3
)

func BenchmarkServeDriftRound20x500(b *testing.B) {
	for range b.N {
		benchServeDrift(b)
	}
}

// driftRoundLog is the bot's "drift round done" log line.
type driftRoundLog struct {
	Message string  `json:"message"`
	Checked int     `json:"checked"`
	Took    float64 `json:"took"` // milliseconds (zerolog's default)
}

// driftRounds reads the rounds that checked every environment from the
// bot's log.
func driftRounds(logs string) []time.Duration {
	var out []time.Duration
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, "drift round done") {
			continue
		}
		var l driftRoundLog
		if json.Unmarshal([]byte(line), &l) == nil && l.Message == "drift round done" && l.Checked == driftBenchEnvCount {
			out = append(out, time.Duration(l.Took*float64(time.Millisecond)))
		}
	}
	return out
}

func benchServeDrift(b *testing.B) {
	w := newWorld(b, options{extraConfig: fmt.Sprintf("drift: {interval: %s}\nrender: {timeout: 2m}\n", driftBenchInterval)})
	pid := w.bot.cmd.Process.Pid

	var conf strings.Builder
	conf.WriteString("version: 1\nenvironments:\n")
	files := map[string]string{}
	var envs []string
	for e := range driftBenchEnvCount {
		env := fmt.Sprintf("env%02d", e)
		envs = append(envs, env)
		ns := fmt.Sprintf("%s-%02d", w.ns, e)
		if _, err := prod.Client().CoreV1().Namespaces().Create(context.Background(),
			&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			b.Fatalf("create namespace %s: %v", ns, err)
		}
		fmt.Fprintf(&conf, "  %[1]s:\n    cluster: prod\n    path: deploy/%[1]s\n    namespace: %[2]s\n    apply: on-merge\n    requires: []\n", env, ns)
		var docs strings.Builder
		for i := range driftBenchPerEnv / 2 {
			fmt.Fprintf(&docs, "%s---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: %s-%03d}\n---\n",
				configMap(fmt.Sprintf("%s-%03d", env, i), "index", fmt.Sprint(i), "settings", strings.Repeat("x", 100)), env, i)
		}
		files["deploy/"+env+"/objects.yaml"] = docs.String()
	}
	files[".tugboat.yaml"] = conf.String()

	stop := make(chan struct{})
	var peak, peakBot, peakChildren, peakPSS int64
	var peakProcs int
	var mu sync.Mutex
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for tick := 0; ; tick++ {
			select {
			case <-stop:
				return
			case <-t.C:
				total, self, procs := treeRSS(pid)
				// smaps_rollup walks the page tables: read it less often.
				var pss int64
				if tick%10 == 0 || procs > 1 {
					pss = treePSS(pid)
				}
				mu.Lock()
				peak, peakBot, peakProcs = max(peak, total), max(peakBot, self), max(peakProcs, procs)
				peakChildren = max(peakChildren, total-self)
				peakPSS = max(peakPSS, pss)
				mu.Unlock()
			}
		}
	}()
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}()

	start := time.Now()
	pushed := w.gh.Commit(w.repo, "main", files, "20 environments of 500 objects")
	for _, env := range envs {
		w.waitStatus(pushed, "tugboat/apply/"+env, "success", 5*time.Minute)
	}
	deployed := time.Since(start)
	// The rounds' peak is measured apart from the deploy's.
	mu.Lock()
	deployPeak := peak
	peak, peakBot, peakChildren, peakProcs, peakPSS = 0, 0, 0, 0, 0
	mu.Unlock()

	// Wait for the rounds (each checks all 20 environments), bounded: a
	// round renders its environments one at a time, and on a two-core
	// machine at load 40 one took 109 s.
	deadline := time.Now().Add(driftBenchRounds * (driftBenchInterval + 4*time.Minute))
	var rounds []time.Duration
	for {
		rounds = driftRounds(w.bot.logs.String())
		if len(rounds) >= driftBenchRounds {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d drift rounds over all %d environments seen:\n%s", len(rounds), driftBenchRounds, driftBenchEnvCount, tail(w.bot.logs.String()))
		}
		time.Sleep(200 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	// What a user sees: every environment in sync on the deployed commit.
	for _, env := range envs {
		w.waitStatus(pushed, "tugboat/drift/"+env, "success", time.Second)
	}
	for _, is := range w.gh.Issues(w.repo) {
		b.Fatalf("a drift issue was opened for an environment in sync: #%d %q", is.Number, is.Title)
	}
	rounds = rounds[:driftBenchRounds]
	s := slices.Clone(rounds)
	slices.Sort(s)
	med := s[len(s)/2]
	fmt.Printf(`
bot serve, drift rounds over %d environments × %d objects (interval %v; deployed in %.1f s)

| measure                                   | value |
|-------------------------------------------|-------|
| drift round duration (median of %d, from the bot's log) | %v |
| peak RSS during the rounds, bot + render children | %.0f MiB (target ≤ 300 MiB) |
| of which the bot alone (peak)             | %.0f MiB |
| of which render children (peak, together) | %.0f MiB (%d processes at most, bot included) |
| peak PSS during the rounds, bot + render children (the binary's shared pages counted once) | %.0f MiB |
| peak RSS during the deploy, bot + render children | %.0f MiB |

rounds %v
`, driftBenchEnvCount, driftBenchPerEnv, driftBenchInterval, deployed.Seconds(), driftBenchRounds, med.Round(time.Millisecond),
		mib(peak), mib(peakBot), mib(peakChildren), peakProcs, mib(peakPSS), mib(deployPeak), rounds)
	b.ReportMetric(med.Seconds(), "round-s")
	b.ReportMetric(mib(peak), "peak-rss-MiB")
	b.ReportMetric(mib(peakBot), "peak-bot-rss-MiB")
	b.ReportMetric(mib(peakChildren), "peak-children-rss-MiB")
	b.ReportMetric(mib(peakPSS), "peak-pss-MiB")
}
