package e2e

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/internal/benchtest"
)

// BenchmarkServeMemoryFourPRs measures the peak resident memory of `bot
// serve` — the bot process and its render children, read from /proc —
// while it plans 4 pull requests of 5,000 objects each, opened at once.
// Target: ≤ 1 GiB.
func BenchmarkServeMemoryFourPRs(b *testing.B) {
	const prs, objects = 4, 5000
	// The render time limit is raised: this measures memory, and a render
	// of 5,000 objects may take longer than the default 10 s on a machine
	// as loaded as a benchmark run makes it.
	w := newWorld(b, options{extraConfig: "render: {timeout: 2m}\n"})
	pid := w.bot.cmd.Process.Pid
	for i := 0; i < b.N; i++ {
		type pr struct {
			branch, sha string
			n           int
		}
		var open []pr
		for p := range prs {
			var docs strings.Builder
			for k := range objects {
				if k > 0 {
					docs.WriteString("---\n")
				}
				docs.WriteString(configMap(fmt.Sprintf("mem-%d-%d-%04d", i, p, k), "value", fmt.Sprintf("pr-%d-object-%d", p, k), "more", strings.Repeat("x", 200)))
			}
			branch := fmt.Sprintf("mem-%d-%d", i, p)
			sha := w.gh.Commit(w.repo, branch, map[string]string{"deploy/staging/many.yaml": docs.String()}, "5,000 objects")
			open = append(open, pr{branch: branch, sha: sha})
		}
		w.gh.WaitForDeliveries()
		base, _, _ := treeRSS(pid)

		stop := make(chan struct{})
		var peak, peakBot int64
		var peakProcs int
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(10 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					total, self, procs := treeRSS(pid)
					peak, peakBot, peakProcs = max(peak, total), max(peakBot, self), max(peakProcs, procs)
				}
			}
		}()
		start := time.Now()
		for k := range open {
			open[k].n = w.gh.OpenPR(w.repo, ghPR(open[k].branch))
		}
		deadline := time.Now().Add(15 * time.Minute)
		for _, p := range open {
			for {
				c, ok := w.checks(p.sha)["tugboat/staging"]
				if ok && c.Status == "completed" {
					if c.Conclusion == "failure" {
						close(stop)
						b.Fatalf("PR %d: plan failed: %s\n%s", p.n, c.Title, tail(c.Summary))
					}
					break
				}
				if time.Now().After(deadline) {
					close(stop)
					b.Fatalf("PR %d not planned within 15 minutes:\n%s", p.n, tail(w.bot.logs.String()))
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		took := time.Since(start)
		close(stop)
		wg.Wait()
		fmt.Printf("bot serve planning %d PRs of %d objects at once: peak RSS %.0f MiB (bot %.0f MiB + render children; %d processes at most; %.0f MiB before) in %.1f s (target ≤ 1024 MiB)\n",
			prs, objects, mib(peak), mib(peakBot), peakProcs, mib(base), took.Seconds())
		// The base branch's ConfigMap "app" was never applied: a create
		// (as drift) beside the PR's 5,000.
		for _, p := range open {
			if c := w.checks(p.sha)["tugboat/staging"]; !strings.HasPrefix(c.Title, fmt.Sprintf("+%d ~0 −0", objects+1)) {
				b.Fatalf("PR %d: the plan does not create the 5,000 objects: %s\n%s", p.n, c.Title, tail(c.Summary))
			}
		}
		b.ReportMetric(mib(peak), "peak-rss-MiB")
		b.ReportMetric(mib(peakBot), "peak-bot-rss-MiB")
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// treeRSS is the resident memory of process pid plus every descendant (the
// bot's render children), read from /proc, and of pid alone.
func treeRSS(pid int) (total, self int64, procs int) {
	for _, p := range tree(pid) {
		rss := benchtest.RSS(p)
		if p == pid {
			self = rss
		}
		total += rss
		procs++
	}
	return total, self, procs
}

// treePSS is the proportional set size of process pid and its descendants
// together: what they occupy in memory, each page counted once however
// many of them map it. Summed RSS counts the bot binary's pages (about
// 65 MiB of its text and data, shared through the page cache) once in the
// bot and again in every render child, which is a start of the same
// binary; a container's memory cgroup charges them once, as PSS does.
func treePSS(pid int) int64 {
	var total int64
	for _, p := range tree(pid) {
		total += rollupPSS(p)
	}
	return total
}

// tree lists pid and its descendants, pid first.
func tree(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid …: comm may hold spaces and parentheses.
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
		fields := strings.Fields(rest)
		if len(fields) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		children[ppid] = append(children[ppid], p)
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		out = append(out, p)
		queue = append(queue, children[p]...)
	}
	return out
}

// rollupPSS reads Pss of /proc/pid/smaps_rollup, in bytes (0 once gone).
func rollupPSS(pid int) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "Pss:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
