package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/applier"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/handlers"
	"github.com/tugboatops/tugboat/handlers/queue"
	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/ops"
	"github.com/tugboatops/tugboat/planner"
)

// app is the wired server.
type app struct {
	// routes are the public and admin muxes (serve_routes.go).
	routes    routes
	health    *health
	scheduler *queue.Scheduler
	slug      string
	// concludeInterrupted concludes what a stopped predecessor left in
	// progress; serve runs it in the background once serving.
	concludeInterrupted func(ctx context.Context) error
	// pages are the badges and status pages; serve runs their refresher.
	pages *pages
	// replicas coordinates with the other replicas; loops are the
	// singletons it runs while this replica leads (serve_leader.go).
	replicas *replicas
	loops    []kube.Loop
}

// wire builds the server from its config: GitHub clients, planner, ops,
// handlers, queue and HTTP routes. ctx carries the base logger; every
// webhook's context gets it too (withLogger), and from there it travels
// down to the engines.
func wire(ctx context.Context, cfg *config.Server) (*app, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ghMetrics := gh.NewMetrics(reg)

	ghc := cfg.GitHub
	creator := githubapp.NewClientCreator(ghc.V3APIURL, ghc.V4APIURL, ghc.App.IntegrationID, []byte(ghc.App.PrivateKey),
		githubapp.WithClientUserAgent("tugboat"),
		githubapp.WithClientTimeout(2*time.Minute),
		githubapp.WithClientMiddleware(gh.Middleware(gh.RetryPolicy{}, ghMetrics)))
	creator, err := githubapp.NewCachingClientCreator(creator, githubapp.DefaultCachingClientCapacity)
	if err != nil {
		return nil, fmt.Errorf("GitHub client cache: %w", err)
	}
	factory := &gh.Factory{
		Creator:  creator,
		Download: &http.Client{Transport: &gh.Transport{Metrics: ghMetrics}, Timeout: 5 * time.Minute},
	}
	slug, err := appSlug(ctx, factory)
	if err != nil {
		return nil, err
	}

	key, err := config.ReadDigestKey(cfg.DigestKeyFile)
	if err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable for the render child: %w", err)
	}
	clusters := kube.NewRegistry(clusterSpecs(cfg))
	// One gate for the process: every render, of every PR, waits for it.
	renderGate := planner.NewRenderGate(cfg.Render.Concurrency, cfg.Render.BufferBytes)
	zerolog.Ctx(ctx).Info().Int("renders", renderGate.Renders()).Int64("render_buffer_bytes", renderGate.BufferBytes()).Msg("render bound")
	renderer := &planner.Renderer{Exe: exe, Args: []string{renderSubcommand}, Gate: renderGate, Limits: planner.Limits{Timeout: cfg.Render.Timeout}, Clusters: clusters}
	pl := &planner.Planner{Clusters: clusters, DigestKey: key, Renderer: renderer}
	botLogin := slug + "[bot]"
	state := &ops.KubeState{Clusters: clusters, Identity: processIdentity()}
	rep, err := newReplicas(cfg, clusters, state.Identity, reg)
	if err != nil {
		return nil, err
	}
	engines := ops.Engines{
		Planner: pl, Renderer: renderer,
		Applier: &applier.Applier{Planner: pl, Clusters: clusters},
		State:   state, Records: state,
		GitHub: factory, Locker: rep.locker,
	}
	o := ops.New(engines, ops.Options{BotLogin: botLogin, AppID: ghc.App.IntegrationID, WebURL: ghc.WebURL,
		ClusterAllowed: cfg.ClusterAllows, Metrics: ops.NewMetrics(reg),
		Clients: factory, Drift: ops.DriftOptions{Interval: cfg.Drift.Interval, Concurrency: cfg.Drift.Concurrency},
		RepoAllowed: cfg.Allowed, PlanForks: cfg.AllowForkPlans})

	base := &handlers.Base{Clients: factory, Ops: o, AppSlug: slug, BotLogin: botLogin,
		Allowed: cfg.Allowed, AllowForkPlans: cfg.AllowForkPlans}
	qm := queue.NewMetrics(reg)
	sched := queue.New(queue.Options{Size: cfg.Queue.Size, Workers: cfg.Queue.Workers, Key: base.EventKey, Metrics: qm,
		Locker: rep.locker, Shared: rep.shared})
	gate, innerSecret := newWebhookGate(cfg.WebhookSecrets(), cfg.Limits.MaxUnverified, webhookError(qm))
	gate.metrics = qm
	gate.next = githubapp.NewEventDispatcher(
		[]githubapp.EventHandler{handlers.PullRequest{Base: base}, handlers.IssueComment{Base: base},
			handlers.CheckRun{Base: base}, handlers.Push{Base: base}, handlers.PullRequestReview{Base: base}, handlers.MergeGroup{Base: base},
			handlers.Installation{Base: base}},
		innerSecret,
		githubapp.WithScheduler(sched),
		githubapp.WithErrorCallback(webhookError(qm)),
		githubapp.WithResponseCallback(webhookResponse(qm)),
	)

	h := newHealth(reg, func(ctx context.Context) error { _, err := factory.AppSlug(ctx); return err }, clusters, probeInterval)
	rt := newRoutes(withLogger(*zerolog.Ctx(ctx), gate), h, reg)
	pg := wirePages(cfg, factory, clusters, key)
	pg.mount(rt, cfg.Web.StatusToken)
	return &app{routes: rt, health: h, scheduler: sched, slug: slug,
		concludeInterrupted: func(ctx context.Context) error { return o.ConcludeInterrupted(ctx, factory) }, pages: pg,
		replicas: rep, loops: singletons(o, cfg.Resync.Every, cfg.Drift.Interval)}, nil
}

// probeInterval is how often GitHub and the clusters are probed.
const probeInterval = 30 * time.Second

// appSlug asks GitHub who the app is, retrying for a while: the bot may
// start before its network does.
func appSlug(ctx context.Context, f *gh.Factory) (string, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		slug, err := f.AppSlug(ctx)
		if err == nil {
			return slug, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return "", fmt.Errorf("cannot reach GitHub as the app (check github.v3_api_url, integration_id and the private key): %w", err)
		}
		zerolog.Ctx(ctx).Warn().Err(err).Msg("GitHub not reachable yet, retrying")
		time.Sleep(time.Second)
	}
}

// withLogger gives the dispatcher a logger to add the event and delivery to:
// a webhook's context descends from the HTTP server's, not from serve's.
func withLogger(log zerolog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(log.WithContext(r.Context())))
	})
}

// processIdentity names this process as the holder of apply mutexes: the
// host (the pod's name), the pid and a random part, so a restarted process
// never mistakes its predecessor's mutex for its own.
func processIdentity() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}
