package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/client-go/rest"

	"github.com/tugboatops/tugboat/kube"
)

// /readyz follows GitHub's reachability, never a target cluster's: with a
// cluster down the replica stays ready and the cluster's gauge says 0;
// once GitHub has not answered for three probe intervals the replica is
// not ready, naming why, and ready again when GitHub answers.
func TestReadinessFollowsGitHubNotClusters(t *testing.T) {
	reg := kube.NewRegistry(nil)
	if err := reg.AddConfig("up", cluster.RESTConfig()); err != nil {
		t.Fatal(err)
	}
	if err := reg.AddConfig("down", &rest.Config{Host: "https://127.0.0.1:1", TLSClientConfig: rest.TLSClientConfig{Insecure: true}}); err != nil {
		t.Fatal(err)
	}
	var githubDown atomic.Bool
	github := func(context.Context) error {
		if githubDown.Load() {
			return errors.New("GET /app: 502 Bad Gateway")
		}
		return nil
	}
	const interval = 100 * time.Millisecond
	pr := prometheus.NewRegistry()
	h := newHealth(pr, github, reg, interval)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go h.run(ctx)

	readyz := func() (int, string) {
		rec := httptest.NewRecorder()
		h.readyz().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return rec.Code, rec.Body.String()
	}
	waitTrue(t, "both clusters probed", func() bool {
		return testutil.CollectAndCount(h.reachable) == 2
	})
	if up, down := testutil.ToFloat64(h.reachable.WithLabelValues("up")), testutil.ToFloat64(h.reachable.WithLabelValues("down")); up != 1 || down != 0 {
		t.Errorf("reachable: up=%v down=%v, want 1 and 0", up, down)
	}
	if code, body := readyz(); code != http.StatusOK {
		t.Errorf("/readyz with a cluster down = %d %s, want 200", code, body)
	}

	githubDown.Store(true)
	waitTrue(t, "not ready once GitHub stays unreachable", func() bool { code, _ := readyz(); return code == http.StatusServiceUnavailable })
	if _, body := readyz(); !strings.Contains(body, "GitHub not reached") || !strings.Contains(body, "502 Bad Gateway") {
		t.Errorf("/readyz body %q does not say why", body)
	}
	if v := testutil.ToFloat64(h.githubGood); v != 0 {
		t.Errorf("tugboat_github_reachable = %v, want 0", v)
	}
	githubDown.Store(false)
	waitTrue(t, "ready again once GitHub answers", func() bool { code, _ := readyz(); return code == http.StatusOK })

	rec := httptest.NewRecorder()
	h.clustersHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/clusters", nil))
	if body := rec.Body.String(); !strings.Contains(body, `"name": "down"`) || !strings.Contains(body, "127.0.0.1:1") || !strings.Contains(body, `"reachable": true`) {
		t.Errorf("cluster details:\n%s", body)
	}
}

func waitTrue(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
