package main

import (
	"fmt"
	"net/http"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/prometheus/client_golang/prometheus"
)

// routes are the bot's two HTTP surfaces. Public is what GitHub and people
// reach through the Service and ingress: anyone may send it anything, so it
// serves only the webhook, badges, per-repository status and the probes.
// Admin (admin_address) is for the operator's network: metrics, cluster
// details and the all-repositories status page. Mount more handlers on
// either with Handle ("GET /badges/", …) before serving.
type routes struct {
	public *http.ServeMux
	admin  *http.ServeMux
}

// newRoutes mounts what the bot itself serves: the webhook (behind its
// gate) and the probes on public; metrics and cluster details on admin.
func newRoutes(webhook http.Handler, h *health, reg *prometheus.Registry) routes {
	rt := routes{public: http.NewServeMux(), admin: http.NewServeMux()}
	rt.public.Handle("POST "+githubapp.DefaultWebhookRoute, webhook)
	rt.public.Handle("GET /healthz", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") }))
	rt.public.Handle("GET /readyz", h.readyz())
	rt.admin.Handle("GET /metrics", metricsHandler(reg))
	rt.admin.Handle("GET /clusters", h.clustersHandler())
	rt.admin.Handle("GET /healthz", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") }))
	return rt
}
