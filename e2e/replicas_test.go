package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugboatops/tugboat/internal/githubtest"
)

// fleet is several `bot serve` replicas of one GitHub App behind a
// round-robin proxy, coordinating through a home namespace of their own in
// the staging cluster.
type fleet struct {
	*world
	bots  []*bot
	home  string // the home namespace
	proxy *httptest.Server
	extra string // server config shared by the replicas
	next  atomic.Int64
	mu    sync.Mutex // guards bots against the proxy
	// hops are the proxy's round trips to the replicas (guarded by mu),
	// so a benchmark can tell the replicas' share of the ack latency from
	// the emulator's and the proxy's.
	hops []time.Duration
}

// newFleet starts n replicas and points the emulator's webhook at the
// proxy. resync is the resync interval ("off" for none).
func newFleet(t testing.TB, n int, resync string) *fleet {
	t.Helper()
	w := newWorld(t, options{})
	w.bot.stop(t) // the world's single bot gives way to the fleet
	f := &fleet{world: w, home: "home-" + w.ns}
	f.extra = fmt.Sprintf("home: {cluster: staging, namespace: %s}\nresync: {interval: %s}\nqueue: {workers: 8}\n", f.home, resync)
	for range n {
		f.bots = append(f.bots, startBot(t, w.gh, f.extra))
	}
	w.bot = f.bots[0]
	f.proxy = httptest.NewServer(http.HandlerFunc(f.forward))
	t.Cleanup(f.proxy.Close)
	w.gh.SetWebhook(f.proxy.URL+"/api/github/hook", "")
	return f
}

// forward passes a webhook to the next live replica in turn, as a load
// balancer does (one that stopped answering is skipped).
func (f *fleet) forward(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	bots := append([]*bot(nil), f.bots...)
	f.mu.Unlock()
	for range len(bots) {
		b := bots[int(f.next.Add(1))%len(bots)]
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, b.url+r.URL.Path, bytes.NewReader(body))
		req.Header = r.Header.Clone()
		t0 := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			continue
		}
		hop := time.Since(t0)
		f.mu.Lock()
		f.hops = append(f.hops, hop)
		f.mu.Unlock()
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
		return
	}
	http.Error(w, "no replica answered", http.StatusBadGateway)
}

// post sends delivery d straight to replica b, signed as GitHub signs it.
func (f *fleet) post(b *bot, d githubtest.Delivery) int {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.url+"/api/github/hook", bytes.NewReader(d.Payload))
	mac := hmac.New(sha256.New, []byte(f.gh.App().WebhookSecret))
	mac.Write(d.Payload)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", d.Event)
	req.Header.Set("X-GitHub-Delivery", d.ID)
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatalf("post delivery to %s: %v", b.url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// idle waits until every live replica's queue is empty.
func (f *fleet) idle() {
	f.t.Helper()
	f.gh.WaitForDeliveries()
	for _, b := range f.live() {
		f.waitFor("replica "+b.url+" idle", 90*time.Second, func() bool {
			m := metrics(f.t, b.url)
			return strings.Contains(m, "tugboat_webhook_queue_depth 0") && strings.Contains(m, "tugboat_webhook_events_running 0")
		})
	}
}

func (f *fleet) live() []*bot {
	var out []*bot
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range f.bots {
		select {
		case <-b.done:
		default:
			out = append(out, b)
		}
	}
	return out
}

// leader is the replica the leader Lease names (by its pid), nil if none.
func (f *fleet) leader() *bot {
	l, err := staging.Client().CoordinationV1().Leases(f.home).Get(context.Background(), "tugboat-leader", metav1.GetOptions{})
	if err != nil || l.Spec.HolderIdentity == nil {
		return nil
	}
	parts := strings.Split(*l.Spec.HolderIdentity, "/")
	if len(parts) < 2 {
		return nil
	}
	pid, _ := strconv.Atoi(parts[1])
	for _, b := range f.live() {
		if b.cmd.Process.Pid == pid {
			return b
		}
	}
	return nil
}

// counter reads one sample of a replica's metrics (0 when absent).
func counter(t testing.TB, b *bot, sample string) int {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` (\d+)$`).FindStringSubmatch(metrics(t, b.url))
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// assertPlannedOnce checks that head sha of PR n has one comment set and
// one completed run per environment.
func (f *fleet) assertPlannedOnce(n int, sha string, envs ...string) {
	f.t.Helper()
	if got := len(f.planComments(n, sha)); got != 1 {
		f.t.Errorf("PR #%d head %.7s has %d plan comments, want one set of 1", n, sha, got)
	}
	for _, env := range envs {
		if got := f.countChecks(sha, "tugboat/"+env); got != 1 {
			f.t.Errorf("PR #%d head %.7s has %d tugboat/%s runs, want 1", n, sha, got, env)
		}
	}
}

// TestReplicasHandleADeliveryOnce: the same delivery given to two replicas
// at once is handled by one (the per-PR Lease serializes them, the ring in
// the home namespace tells the second it was handled): one comment set and
// one run per environment. A replica restarted since still refuses it, and
// a redelivery through the load balancer too.
func TestReplicasHandleADeliveryOnce(t *testing.T) {
	f := newFleet(t, 2, "off")
	f.gh.SetWebhook("", "") // deliveries are recorded, and sent by hand below
	n, sha := f.openPR("twice", map[string]string{"deploy/staging/app.yaml": configMap("app", "color", "green"),
		"deploy/prod/app.yaml": configMap("app", "color", "green")})
	f.gh.WaitForDeliveries()
	var opened githubtest.Delivery
	for _, d := range f.gh.Deliveries() {
		if d.Event == "pull_request" && d.Action == "opened" {
			opened = d
		}
	}
	if opened.ID == "" {
		t.Fatal("no opened delivery")
	}
	var wg sync.WaitGroup
	for _, b := range f.bots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code := f.post(b, opened); code != http.StatusOK {
				t.Errorf("replica %s answered %d", b.url, code)
			}
		}()
	}
	wg.Wait()
	f.waitPlanned(sha, "staging", "prod")
	f.idle()
	f.assertPlannedOnce(n, sha, "staging", "prod")
	handled, dup := 0, 0
	for _, b := range f.bots {
		handled += counter(t, b, `tugboat_webhook_deliveries_total{event="pull_request",outcome="handled"}`)
		dup += counter(t, b, `tugboat_webhook_deliveries_total{event="pull_request",outcome="duplicate"}`)
	}
	if handled != 1 || dup != 1 {
		t.Errorf("across replicas: %d handled, %d duplicate; want 1 and 1", handled, dup)
	}

	// Restarted, the first replica remembers through the ring.
	f.bots[0].stop(t)
	f.bots[0] = launchBot(t, f.bots[0].url, f.bots[0].config)
	if code := f.post(f.bots[0], opened); code != http.StatusOK {
		t.Fatalf("restarted replica answered %d", code)
	}
	f.gh.SetWebhook(f.proxy.URL+"/api/github/hook", "")
	if err := f.gh.Redeliver(opened.ID); err != nil {
		t.Fatal(err)
	}
	f.idle()
	f.assertPlannedOnce(n, sha, "staging", "prod")
	if got := counter(t, f.bots[0], `tugboat_webhook_deliveries_total{event="pull_request",outcome="duplicate"}`); got < 1 {
		t.Errorf("the restarted replica handled a delivery the ring holds (duplicates counted: %d)", got)
	}
	if !strings.Contains(f.bots[0].logs.String(), "already handled by a replica") {
		t.Errorf("the restarted replica did not say the delivery was handled:\n%s", tail(f.bots[0].logs.String()))
	}
}

// TestReplicasLeaderKilledAnotherResyncs: one of three replicas leads; when
// it is SIGKILLed (its Lease left held), another takes over once the Lease
// expires and its resync plans a pull request whose delivery was lost —
// once.
func TestReplicasLeaderKilledAnotherResyncs(t *testing.T) {
	f := newFleet(t, 3, "10m")
	var first *bot
	f.waitFor("a leader", 60*time.Second, func() bool { first = f.leader(); return first != nil })
	leaders := 0
	for _, b := range f.bots {
		if counter(t, b, "tugboat_leader") == 1 {
			leaders++
		}
	}
	if leaders != 1 {
		t.Fatalf("%d replicas say they lead, want 1", leaders)
	}
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.done
	killed := time.Now()

	f.gh.SetWebhook("", "") // the pull request's delivery is lost
	n, sha := f.openPR("lost", map[string]string{"deploy/prod/app.yaml": configMap("app", "color", "lost")})
	var next *bot
	f.waitFor("a new leader", 60*time.Second, func() bool { next = f.leader(); return next != nil && next != first })
	if took := time.Since(killed); took < 10*time.Second {
		t.Errorf("a new leader after %s, before the dead leader's 15 s Lease could expire", took)
	}
	f.waitPlanned(sha, "prod")
	f.idle()
	f.assertPlannedOnce(n, sha, "prod")
	logs := next.logs.String()
	if !strings.Contains(logs, "became the leader") || !strings.Contains(logs, "resync: the head has no completed tugboat run") {
		t.Errorf("the new leader's log does not show it leading and resyncing:\n%s", tail(logs))
	}
	for _, b := range f.live() {
		if b != next && strings.Contains(b.logs.String(), "resync: the head has no completed tugboat run") {
			t.Errorf("replica %s, not the leader, resynced", b.url)
		}
	}
}
