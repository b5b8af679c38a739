package e2e

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/internal/githubtest"
)

// BenchmarkWebhookAck measures how fast `bot serve` acknowledges signed
// deliveries: 1,000 real pull_request payloads (as the emulator sent
// them, action "labeled", which the bot queues and then ignores) sent by 8
// concurrent senders on loopback. Target: p99 ≤ 50 ms.
func BenchmarkWebhookAck(b *testing.B) {
	w := newWorldB(b)
	_, sha := w.openPR("ack", map[string]string{"deploy/staging/app.yaml": configMap("app", "color", "green")})
	w.waitPlanned(sha, "staging")
	var payload map[string]any
	for _, d := range w.gh.Deliveries() {
		if d.Event == "pull_request" {
			json.Unmarshal(d.Payload, &payload)
		}
	}
	payload["action"] = "labeled"
	payload["label"] = map[string]any{"name": "bench"}
	body, _ := json.Marshal(payload)
	secret := w.gh.App().WebhookSecret

	const total, senders = 1000, 8
	for i := 0; i < b.N; i++ {
		lat := make([]time.Duration, total)
		var wg sync.WaitGroup
		next := make(chan int, total)
		for j := 0; j < total; j++ {
			next <- j
		}
		close(next)
		codes := make([]int, total)
		start := time.Now()
		for s := 0; s < senders; s++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range next {
					t0 := time.Now()
					codes[j] = postWebhook(b, w.bot.url, secret, "pull_request", fmt.Sprintf("bench-%d-%d", i, j), body)
					lat[j] = time.Since(t0)
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		for j, c := range codes {
			if c != 200 {
				b.Fatalf("delivery %d answered %d", j, c)
			}
		}
		sort.Slice(lat, func(a, c int) bool { return lat[a] < lat[c] })
		p50, p99 := lat[total/2], lat[total*99/100]
		b.ReportMetric(ms(p50), "p50-ms")
		b.ReportMetric(ms(p99), "p99-ms")
		b.ReportMetric(float64(total)/elapsed.Seconds(), "deliveries/s")
		fmt.Printf("webhook ack, %d signed deliveries of %d bytes, %d senders: p50 %.2f ms, p99 %.2f ms, max %.2f ms, %.0f deliveries/s (target p99 ≤ 50 ms)\n",
			total, len(body), senders, ms(p50), ms(p99), ms(lat[total-1]), float64(total)/elapsed.Seconds())
		within50, bot99 := botAck(b, []*bot{w.bot})
		fmt.Printf("  the bot's own timing of its answers (tugboat_webhook_ack_seconds, every delivery so far): %.1f%% within 50 ms, p99 %s\n", 100*within50, bot99)
	}
}

// BenchmarkPROpenedToComment measures the time from a pull request being
// opened (the emulator announces it) to the plan comment being posted, for
// a change of 200 ConfigMaps in each of two environments. Target: ≤ 3 s.
func BenchmarkPROpenedToComment(b *testing.B) {
	w := newWorldB(b)
	const objects = 200
	for i := 0; i < b.N; i++ {
		files := map[string]string{}
		for _, env := range []string{"staging", "prod"} {
			var docs []string
			for k := 0; k < objects; k++ {
				docs = append(docs, configMap(fmt.Sprintf("bench-%d-%03d", i, k), "value", fmt.Sprintf("%s-%d", env, k)))
			}
			files["deploy/"+env+"/many.yaml"] = strings.Join(docs, "---\n")
		}
		branch := fmt.Sprintf("bench-%d", i)
		sha := w.gh.Commit(w.repo, branch, files, "200 objects per env")
		w.gh.WaitForDeliveries()
		start := time.Now()
		n := w.gh.OpenPR(w.repo, ghPR(branch))
		for len(w.planComments(n, sha)) == 0 {
			if time.Since(start) > 2*time.Minute {
				b.Fatalf("no plan comment after 2 minutes:\n%s", w.bot.logs.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
		took := time.Since(start)
		w.waitPlanned(sha, "staging", "prod") // every part is posted before the checks complete
		all := time.Since(start)
		body := allBodies(w.planComments(n, sha))
		if !strings.Contains(body, fmt.Sprintf("bench-%d-199", i)) {
			b.Fatalf("comment set lacks the last object:\n%s", body)
		}
		b.ReportMetric(took.Seconds(), "s/pr-to-comment")
		b.ReportMetric(all.Seconds(), "s/pr-to-checks")
		fmt.Printf("PR opened → plan comment posted, %d objects in each of 2 environments: %.2f s (target ≤ 3 s); all %d parts and both check runs done: %.2f s\n",
			objects, took.Seconds(), len(w.planComments(n, sha)), all.Seconds())
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func newWorldB(b *testing.B) *world { return newWorld(b, options{}) }

func ghPR(branch string) githubtest.PROptions {
	return githubtest.PROptions{Head: branch, Title: "Bench " + branch, Author: "alice"}
}
