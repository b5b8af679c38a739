package e2e

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/internal/githubtest"
)

// The replica burst: three `bot serve` replicas behind a round-robin
// proxy, one emulator, the two clusters; 200 pull requests × 3 pushes
// across 5 repositories, as real opened and synchronize webhooks. Every
// pull request's final head must get exactly one comment set and one
// completed run per environment, and no head more than one of either.
const (
	burstRepos  = 5
	burstPRs    = 200
	burstPushes = 3
	// burstTimeout bounds a run: it fails rather than hangs.
	burstTimeout = 20 * time.Minute
)

// burstPR is one pull request of the burst.
type burstPR struct {
	repo  string
	n     int
	heads []string
}

// burst runs the burst on fleet f; kill, when set, is called once half the
// pushes are made. It returns the pull requests and when the last push was
// made.
func burst(b *testing.B, f *fleet, kill func()) ([]*burstPR, time.Time) {
	// 600 plans of two environments cost the one installation more than
	// GitHub's floor of 5,000 requests an hour (each reads the pull
	// request, its files, config and tree, and writes runs and comments):
	// the burst is that of an installation on GitHub Enterprise Cloud,
	// whose budget is 15,000 an hour. Under the floor the bot would wait
	// for the reset, which is not what this measures.
	f.gh.SetRateLimit(githubtest.RateLimit{Limit: 15000})
	repos := []string{f.repo}
	for i := 1; i < burstRepos; i++ {
		name := fmt.Sprintf("%s-r%d", f.repo, i)
		f.gh.CreateRepo(name, githubtest.RepoOptions{Files: baseFiles(f.ns)})
		f.gh.SetPermission(name, "alice", "write")
		repos = append(repos, name)
	}
	prs := make([]*burstPR, burstPRs)
	push := func(p *burstPR, branch string, k int) string {
		v := fmt.Sprintf("%s-%d", branch, k)
		return f.gh.Commit(p.repo, branch, map[string]string{
			"deploy/staging/app.yaml": configMap("app", "color", v),
			"deploy/prod/app.yaml":    configMap("app", "color", v),
		}, "push "+v)
	}
	// Pushes go round the pull requests, so their events interleave as a
	// busy organisation's do; four writers keep the emulator busy.
	var wg sync.WaitGroup
	work := make(chan int)
	total := burstPRs * burstPushes
	var (
		mu     sync.Mutex
		done   int
		killed bool
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for step := range work {
				i, k := step%burstPRs, step/burstPRs
				branch := fmt.Sprintf("burst-%d", i)
				if k == 0 {
					p := &burstPR{repo: repos[i%burstRepos]}
					p.heads = append(p.heads, push(p, branch, 0))
					p.n = f.gh.OpenPR(p.repo, githubtest.PROptions{Head: branch, Title: "burst " + branch, Author: "alice"})
					mu.Lock()
					prs[i] = p
					mu.Unlock()
				} else {
					mu.Lock()
					p := prs[i]
					mu.Unlock()
					h := push(p, branch, k)
					mu.Lock()
					p.heads = append(p.heads, h)
					mu.Unlock()
				}
				mu.Lock()
				done++
				doKill := kill != nil && !killed && done >= total/2
				if doKill {
					killed = true
				}
				mu.Unlock()
				if doKill {
					kill()
				}
			}
		}()
	}
	// A PR's pushes are ordered: step k of PR i is sent only after round
	// k-1 is complete.
	for k := range burstPushes {
		for i := range burstPRs {
			work <- k*burstPRs + i
		}
		if k == 0 {
			// every PR must be open before its first synchronize
			for {
				mu.Lock()
				ready := done >= burstPRs
				mu.Unlock()
				if ready {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
	close(work)
	wg.Wait()
	return prs, time.Now()
}

// verify waits for every final head to be planned, then checks there are
// no duplicates. It returns when the last final head was planned and the
// number of completed environment runs.
func verify(b *testing.B, f *fleet, prs []*burstPR, start time.Time) (time.Time, int) {
	envs := []string{"staging", "prod"}
	deadline := start.Add(burstTimeout)
	var last time.Time
	for _, p := range prs {
		final := p.heads[len(p.heads)-1]
		for {
			runs := f.gh.CheckRuns(p.repo, final)
			completed := 0
			for _, r := range runs {
				if strings.HasPrefix(r.Name, "tugboat/") && r.Status == "completed" && r.CompletedAt != nil {
					completed++
					if r.CompletedAt.After(last) {
						last = *r.CompletedAt
					}
				}
			}
			if completed >= len(envs) {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("%s#%d: final head %.7s not planned within %s (runs %+v)", p.repo, p.n, final, burstTimeout, runs)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	f.idle()
	runs := 0
	for _, p := range prs {
		for hi, head := range p.heads {
			sets := 0
			for _, c := range f.gh.Comments(p.repo, p.n) {
				if c.Author == f.gh.Bot().Login && strings.HasPrefix(c.Body, "<!-- tugboat:plan sha="+head+" part=1 ") {
					sets++
				}
			}
			final := hi == len(p.heads)-1
			if sets > 1 || (final && sets != 1) {
				b.Errorf("%s#%d head %d/%d: %d comment sets", p.repo, p.n, hi+1, len(p.heads), sets)
			}
			for _, env := range envs {
				n := 0
				for _, r := range f.gh.CheckRuns(p.repo, head) {
					// A run a killed replica left open, concluded by the
					// resync before it planned again, is no duplicate plan.
					if r.Name == "tugboat/"+env && r.Title != "Interrupted — planning again" {
						n++
						if r.Status == "completed" {
							runs++
						} else if final {
							b.Errorf("%s#%d final head: tugboat/%s left %s", p.repo, p.n, env, r.Status)
						}
					}
				}
				if n > 1 || (final && n != 1) {
					b.Errorf("%s#%d head %d/%d: %d tugboat/%s runs", p.repo, p.n, hi+1, len(p.heads), n, env)
				}
			}
		}
	}
	return last, runs
}

// ackLatencies are the emulator's measured answers to pull_request
// deliveries (through the proxy), sorted.
func ackLatencies(f *fleet) []time.Duration {
	var lat []time.Duration
	for _, d := range f.gh.Deliveries() {
		if d.Event == "pull_request" && d.StatusCode == 200 {
			lat = append(lat, d.Latency)
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat
}

// botAck sums the bots' tugboat_webhook_ack_seconds histograms: the share
// of answers within 50 ms and the upper bound of the bucket holding the
// 99th percentile, as the bots themselves timed them.
func botAck(b *testing.B, bots []*bot) (within50 float64, p99 string) {
	buckets := map[float64]float64{}
	for _, bot := range bots {
		for _, line := range strings.Split(metrics(b, bot.url), "\n") {
			rest, ok := strings.CutPrefix(line, `tugboat_webhook_ack_seconds_bucket{le="`)
			if !ok {
				continue
			}
			le, count, _ := strings.Cut(rest, `"} `)
			var n float64
			fmt.Sscan(count, &n)
			if le == "+Inf" {
				buckets[math.Inf(1)] += n
				continue
			}
			var v float64
			fmt.Sscan(le, &v)
			buckets[v] += n
		}
	}
	var les []float64
	for le := range buckets {
		les = append(les, le)
	}
	sort.Float64s(les)
	total := buckets[math.Inf(1)]
	if total == 0 {
		return 0, "n/a"
	}
	within50 = buckets[0.05] / total
	for _, le := range les {
		if buckets[le] >= 0.99*total {
			return within50, fmt.Sprintf("≤ %g ms", le*1000)
		}
	}
	return within50, "n/a"
}

// percentiles are the p50 and p99 of lat, sorted in place.
func percentiles(lat []time.Duration) (p50, p99 time.Duration) {
	if len(lat) == 0 {
		return 0, 0
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat[len(lat)/2], lat[len(lat)*99/100]
}

func reportBurst(b *testing.B, what string, f *fleet, start, last time.Time, runs int) {
	lat := ackLatencies(f)
	if len(lat) == 0 {
		b.Fatal("no acknowledged pull_request deliveries")
	}
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	f.mu.Lock()
	hops := append([]time.Duration(nil), f.hops...)
	f.mu.Unlock()
	h50, h99 := percentiles(hops)
	within50, bot99 := botAck(b, f.live())
	b.ReportMetric(ms(h99), "proxy-hop-p99-ms")
	took := last.Sub(start)
	perMin := float64(runs) / took.Minutes()
	b.ReportMetric(perMin, "plans/min")
	b.ReportMetric(ms(p50), "ack-p50-ms")
	b.ReportMetric(ms(p99), "ack-p99-ms")
	b.ReportMetric(took.Seconds(), "s-to-last-plan")
	fmt.Printf("replica burst (%s): 3 replicas, %d PRs × %d pushes over %d repos; %d environment plans completed in %.1f s = %.0f plans/min; "+
		"webhook ack over %d pull_request deliveries p50 %.2f ms, p99 %.2f ms (target ≤ 50 ms); every final head planned once, no duplicates\n",
		what, burstPRs, burstPushes, burstRepos, runs, took.Seconds(), perMin, len(lat), ms(p50), ms(p99))
	fmt.Printf("  of which: proxy → replica round trip p50 %.2f ms, p99 %.2f ms (%d deliveries of every event); the live replicas' own timing: %.1f%% within 50 ms, p99 %s\n",
		ms(h50), ms(h99), len(hops), 100*within50, bot99)
}

// BenchmarkReplicasBurst is the burst on three healthy replicas.
func BenchmarkReplicasBurst(b *testing.B) {
	for range b.N {
		f := newFleet(b, 3, "10m")
		start := time.Now()
		prs, _ := burst(b, f, nil)
		last, runs := verify(b, f, prs, start)
		reportBurst(b, "steady", f, start, last, runs)
	}
}

// BenchmarkReplicasBurstReplicaKilled is the burst with one replica
// SIGKILLed half way through the pushes (deliveries it acknowledged are
// lost) and restarted: the leader's resync (every 20 s) must still plan
// every final head, with no duplicates.
func BenchmarkReplicasBurstReplicaKilled(b *testing.B) {
	for range b.N {
		f := newFleet(b, 3, "20s")
		start := time.Now()
		var killedAt time.Time
		kill := func() {
			victim := f.bots[1]
			victim.cmd.Process.Signal(syscall.SIGKILL)
			<-victim.done
			killedAt = time.Now()
			restarted := launchBot(b, victim.url, victim.config)
			f.mu.Lock()
			f.bots[1] = restarted
			f.mu.Unlock()
		}
		prs, _ := burst(b, f, kill)
		last, runs := verify(b, f, prs, start)
		reportBurst(b, "one replica SIGKILLed and restarted", f, start, last, runs)
		fmt.Printf("  killed %.1f s into the burst; last final head planned %.1f s after the kill\n",
			killedAt.Sub(start).Seconds(), last.Sub(killedAt).Seconds())
		b.ReportMetric(last.Sub(killedAt).Seconds(), "s-kill-to-last-plan")
	}
}
