package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/kube"
)

// health probes GitHub and every target cluster in the background and keeps
// the results: /readyz, the cluster metrics and the admin's cluster details
// read them, so no request ever waits on a probe.
//
// Readiness is "this replica can take webhooks": its config loaded (it
// would not be serving otherwise) and GitHub reachable. A target cluster
// that is down does not make a replica unready — every replica would leave
// the Service at once, and GitHub does not redeliver what it could not
// deliver; plans of that cluster's environments say it is unreachable.
type health struct {
	github   func(ctx context.Context) error
	clusters *kube.Registry
	interval time.Duration

	mu         sync.Mutex
	githubOK   time.Time // last success
	githubErr  error     // last failure, nil after a success
	clusterNow map[string]clusterHealth

	reachable  *prometheus.GaugeVec
	probeTime  *prometheus.GaugeVec
	githubGood prometheus.Gauge
}

// clusterHealth is a cluster's latest probe, as the admin listener shows it.
type clusterHealth struct {
	Name      string    `json:"name"`
	Reachable bool      `json:"reachable"`
	Error     string    `json:"error,omitempty"`
	CheckedAt time.Time `json:"checked_at"`
	Seconds   float64   `json:"probe_seconds"`
}

// probeTimeout bounds one cluster's or GitHub's probe.
const probeTimeout = 5 * time.Second

// newHealth registers the probe metrics with reg. GitHub counts as reached
// at start: wire has just asked it who the app is.
func newHealth(reg prometheus.Registerer, github func(context.Context) error, clusters *kube.Registry, interval time.Duration) *health {
	h := &health{
		github: github, clusters: clusters, interval: interval,
		githubOK: time.Now(), clusterNow: map[string]clusterHealth{},
		reachable: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tugboat_cluster_reachable",
			Help: "1 when the cluster's API server answered the latest background probe, else 0.",
		}, []string{"cluster"}),
		probeTime: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tugboat_cluster_probe_seconds",
			Help: "How long the cluster's latest background probe took.",
		}, []string{"cluster"}),
		githubGood: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tugboat_github_reachable",
			Help: "1 when GitHub answered the latest background probe as the app, else 0.",
		}),
	}
	h.githubGood.Set(1)
	reg.MustRegister(h.reachable, h.probeTime, h.githubGood)
	return h
}

// run probes every interval until ctx ends.
func (h *health) run(ctx context.Context) {
	t := time.NewTicker(h.interval)
	defer t.Stop()
	for {
		h.probe(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// probe asks GitHub and every cluster at once, each within probeTimeout.
func (h *health) probe(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		defer cancel()
		err := h.github(pctx)
		if ctx.Err() != nil {
			return
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		h.githubErr = err
		if err == nil {
			h.githubOK = time.Now()
			h.githubGood.Set(1)
		} else {
			h.githubGood.Set(0)
			zerolog.Ctx(ctx).Warn().Err(err).Msg("GitHub probe failed")
		}
	}()
	for _, name := range h.clusters.Names() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			c, err := h.clusters.Cluster(name)
			if err == nil {
				err = c.Ping(ctx, probeTimeout)
			}
			if ctx.Err() != nil {
				return
			}
			r := clusterHealth{Name: name, Reachable: err == nil, CheckedAt: start, Seconds: time.Since(start).Seconds()}
			if err != nil {
				r.Error = err.Error()
			}
			h.mu.Lock()
			prev, seen := h.clusterNow[name]
			h.clusterNow[name] = r
			h.mu.Unlock()
			h.probeTime.WithLabelValues(name).Set(r.Seconds)
			if r.Reachable {
				h.reachable.WithLabelValues(name).Set(1)
			} else {
				h.reachable.WithLabelValues(name).Set(0)
			}
			// Log changes only: a cluster down for an hour is one line, not 120.
			if !seen || prev.Reachable != r.Reachable {
				ev := zerolog.Ctx(ctx).Info()
				if !r.Reachable {
					ev = zerolog.Ctx(ctx).Warn().Str("error", r.Error)
				}
				ev.Str("cluster", name).Bool("reachable", r.Reachable).Msg("cluster probe")
			}
		}()
	}
	wg.Wait()
}

// ready is nil when this replica can take webhooks: GitHub answered within
// the last three probe intervals (one failed probe does not pull a replica
// out of the Service).
func (h *health) ready() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if since := time.Since(h.githubOK); since > 3*h.interval {
		return fmt.Errorf("GitHub not reached as the app for %s: %v", since.Round(time.Second), h.githubErr)
	}
	return nil
}

// readyz answers /readyz from the cached probes.
func (h *health) readyz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if err := h.ready(); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
}

// clustersHandler serves the admin's cluster details: every cluster's
// latest probe, as JSON, sorted by name.
func (h *health) clustersHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		var out struct {
			GitHub struct {
				Reachable bool      `json:"reachable"`
				LastOK    time.Time `json:"last_ok"`
				Error     string    `json:"error,omitempty"`
			} `json:"github"`
			Clusters []clusterHealth `json:"clusters"`
		}
		h.mu.Lock()
		out.GitHub.Reachable = h.githubErr == nil
		out.GitHub.LastOK = h.githubOK
		if h.githubErr != nil {
			out.GitHub.Error = h.githubErr.Error()
		}
		for _, name := range h.clusters.Names() {
			c, ok := h.clusterNow[name]
			if !ok {
				c = clusterHealth{Name: name, Error: "not probed yet"}
			}
			out.Clusters = append(out.Clusters, c)
		}
		h.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
	})
}
