package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/handlers/queue"
)

// maxWebhookBytes is GitHub's cap on a webhook payload (25 MB): nothing
// GitHub signs is larger, so a larger body is refused before it is read.
const maxWebhookBytes = 25 << 20

// webhookGate stands in front of go-githubapp's dispatcher, which checks
// one secret: it caps the body and the number of bodies read at once, then
// accepts a delivery signed with any of the configured secrets (the current
// one and those being rotated out) and hands it on signed with a key of
// this process's own, the one secret the dispatcher is given. The
// dispatcher's own check stays in place behind it.
type webhookGate struct {
	secrets [][]byte
	inner   []byte // the dispatcher's secret; never leaves the process
	next    http.Handler
	onError githubapp.ErrorCallback
	// slots bounds the bodies being read and checked at once: each may
	// hold up to maxWebhookBytes of memory before it is known to be
	// GitHub's.
	slots chan struct{}
	// metrics times every answer (tugboat_webhook_ack_seconds).
	metrics *queue.Metrics
}

// newWebhookGate returns the gate and the secret to give the dispatcher
// (next, built with that secret afterwards, is set by the caller).
func newWebhookGate(secrets []string, maxUnverified int, onError githubapp.ErrorCallback) (*webhookGate, string) {
	inner := make([]byte, 32)
	_, _ = rand.Read(inner)
	g := &webhookGate{inner: []byte(hex.EncodeToString(inner)), onError: onError, slots: make(chan struct{}, maxUnverified)}
	for _, s := range secrets {
		g.secrets = append(g.secrets, []byte(s))
	}
	return g, string(g.inner)
}

func (g *webhookGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	defer func() { g.metrics.Ack(time.Since(start)) }()
	select {
	case g.slots <- struct{}{}:
		defer func() { <-g.slots }()
	default:
		// GitHub records a 503 as a failed delivery, redeliverable.
		zerolog.Ctx(r.Context()).Warn().Int("max_unverified", cap(g.slots)).Msg("too many webhook bodies being read at once: answered 503")
		http.Error(w, "busy, try again later", http.StatusServiceUnavailable)
		return
	}
	if r.ContentLength > maxWebhookBytes {
		g.tooLarge(w, r)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			g.tooLarge(w, r)
			return
		}
		g.invalid(w, r, fmt.Errorf("read body: %w", err))
		return
	}
	if err := g.verify(r.Header.Get("X-Hub-Signature-256"), body); err != nil {
		g.invalid(w, r, err)
		return
	}
	mac := hmac.New(sha256.New, g.inner)
	mac.Write(body)
	r.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	r.Header.Del("X-Hub-Signature") // SHA-1: not what the dispatcher should look at
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	g.next.ServeHTTP(w, r)
}

// verify checks the SHA-256 signature against every configured secret.
// SHA-1 signatures (X-Hub-Signature) are not accepted: GitHub sends both.
func (g *webhookGate) verify(header string, body []byte) error {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return errors.New("missing X-Hub-Signature-256 signature")
	}
	sig, err := hex.DecodeString(hexSig)
	if err != nil {
		return errors.New("malformed X-Hub-Signature-256 signature")
	}
	for _, s := range g.secrets {
		mac := hmac.New(sha256.New, s)
		mac.Write(body)
		if hmac.Equal(sig, mac.Sum(nil)) {
			return nil
		}
	}
	return fmt.Errorf("payload signature matches none of the %d configured webhook secrets", len(g.secrets))
}

func (g *webhookGate) invalid(w http.ResponseWriter, r *http.Request, err error) {
	g.onError(w, r, githubapp.ValidationError{
		EventType:  r.Header.Get("X-GitHub-Event"),
		DeliveryID: r.Header.Get("X-GitHub-Delivery"),
		Cause:      err,
	})
}

func (g *webhookGate) tooLarge(w http.ResponseWriter, r *http.Request) {
	zerolog.Ctx(r.Context()).Warn().Int64("content_length", r.ContentLength).Msg("webhook body over GitHub's 25 MB: answered 413")
	http.Error(w, "payload over 25 MB", http.StatusRequestEntityTooLarge)
}
