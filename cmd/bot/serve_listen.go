package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/net/netutil"

	"github.com/tugboatops/tugboat/config"
)

// listener is one of the bot's HTTP servers with its listener.
type listener struct {
	srv  *http.Server
	ln   net.Listener
	addr string // "" when not listening
}

// listeners are the public and (when admin_address is set) admin servers.
type listeners struct{ public, admin listener }

// listen opens the public and admin listeners. The public one is hardened
// against what an unauthenticated client may hold: the connection count is
// capped (LimitListener), headers must arrive within 10 s and the whole
// request within limits.read_timeout (a slow body cannot hold a connection),
// idle keep-alives are closed, and header blocks are small; the body cap
// and the bound on bodies read at once are the webhook gate's.
func listen(ctx context.Context, cfg *config.Server, a *app) (*listeners, error) {
	var l listeners
	ln, err := net.Listen("tcp", cfg.Address)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Address, err)
	}
	l.public = listener{
		ln: netutil.LimitListener(ln, cfg.Limits.MaxConnections), addr: ln.Addr().String(),
		srv: &http.Server{
			Handler:           a.routes.public,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       cfg.Limits.ReadTimeout,
			WriteTimeout:      cfg.Limits.ReadTimeout + time.Minute,
			IdleTimeout:       90 * time.Second,
			MaxHeaderBytes:    64 << 10,
		},
	}
	if cfg.AdminAddress == "" {
		zerolog.Ctx(ctx).Warn().Msg("admin_address is not set: /metrics and cluster details are not served")
		return &l, nil
	}
	aln, err := net.Listen("tcp", cfg.AdminAddress)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("listen on admin_address %s: %w", cfg.AdminAddress, err)
	}
	l.admin = listener{ln: aln, addr: aln.Addr().String(),
		srv: &http.Server{Handler: a.routes.admin, ReadHeaderTimeout: 10 * time.Second}}
	return &l, nil
}

// serve serves both until one fails; its error goes to errc.
func (l *listeners) serve(errc chan<- error) {
	for _, s := range []listener{l.public, l.admin} {
		if s.srv == nil {
			continue
		}
		go func() { errc <- s.srv.Serve(s.ln) }()
	}
}

// shutdown stops taking requests on both and waits for those in flight.
func (l *listeners) shutdown(ctx context.Context) {
	for _, s := range []listener{l.public, l.admin} {
		if s.srv == nil {
			continue
		}
		if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			zerolog.Ctx(ctx).Warn().Err(err).Str("address", s.addr).Msg("http shutdown")
		}
	}
}
