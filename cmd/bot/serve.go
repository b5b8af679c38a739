package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/config"
)

// Shutdown budget: the HTTP server stops taking webhooks first, then the
// queue drains what was already acknowledged.
const (
	httpShutdownTimeout  = 10 * time.Second
	queueShutdownTimeout = 5 * time.Minute
)

// runServe implements `bot serve`: the GitHub App's webhook server.
func runServe(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "server config file (GitHub App, clusters, digest key)")
	if err := fs.Parse(args); err != nil {
		return 1
	}
	if *cfgPath == "" {
		fmt.Fprintln(stderr, "bot serve: --config is required")
		fs.Usage()
		return 1
	}
	cfg, err := config.LoadServerApp(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "bot serve: %v\n", err)
		return 1
	}
	level, _ := zerolog.ParseLevel(cfg.LogLevel)
	log := zerolog.New(stderr).Level(level).With().Timestamp().Logger()
	if err := serve(log.WithContext(ctx), cfg); err != nil {
		log.Error().Err(err).Msg("bot serve stopped")
		return 1
	}
	return 0
}

// serve runs the server until ctx ends, then shuts down gracefully. It
// logs to zerolog.Ctx(ctx), the base logger of everything it runs.
func serve(ctx context.Context, cfg *config.Server) error {
	log := zerolog.Ctx(ctx)
	app, err := wire(ctx, cfg)
	if err != nil {
		return err
	}
	srv, err := listen(ctx, cfg, app)
	if err != nil {
		return err
	}
	errc := make(chan error, 2)
	srv.serve(errc)
	go app.health.run(ctx)
	log.Info().Str("address", srv.public.addr).Str("admin_address", srv.admin.addr).Str("app", app.slug).Msg("serving GitHub webhooks")
	// The badges and status pages are served from memory; this keeps it fresh.
	go app.pages.refresher.Run(ctx)
	// Applies a stopped predecessor left in progress are concluded beside
	// serving: waiting for their mutexes takes up to a lease duration.
	concluded := make(chan struct{})
	go func() {
		defer close(concluded)
		if err := app.concludeInterrupted(ctx); err != nil && ctx.Err() == nil {
			log.Error().Err(err).Msg("could not conclude every interrupted apply; the next start tries again")
		}
	}()

	// The singletons (resync, drift) run while this replica leads; on
	// shutdown the leadership is released so another takes over at once.
	led := make(chan struct{})
	go func() {
		defer close(led)
		app.replicas.lead(ctx, app.loops)
	}()

	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info().Msg("shutting down: no new webhooks, draining the queue")
	<-concluded // ctx has ended: it stops at its next request
	<-led
	// ctx has ended: the shutdown gets contexts of its own, with the logger.
	base := log.WithContext(context.Background())
	hctx, cancel := context.WithTimeout(base, httpShutdownTimeout)
	defer cancel()
	srv.shutdown(hctx)
	qctx, qcancel := context.WithTimeout(base, queueShutdownTimeout)
	defer qcancel()
	if err := app.scheduler.Shutdown(qctx); err != nil {
		return fmt.Errorf("drain the webhook queue: %w", err)
	}
	log.Info().Msg("stopped")
	return nil
}
