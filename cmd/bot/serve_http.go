package main

import (
	"errors"
	"net/http"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/handlers/queue"
)

// webhookError answers what the dispatcher could not take: 400 for a bad
// signature or headers, 503 when the queue is full (so GitHub records the
// delivery as failed and it can be redelivered), 500 otherwise.
func webhookError(m *queue.Metrics) githubapp.ErrorCallback {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		log := zerolog.Ctx(r.Context())
		event := r.Header.Get("X-GitHub-Event")
		var ve githubapp.ValidationError
		switch {
		case errors.As(err, &ve):
			m.Delivery(event, queue.OutcomeInvalid)
			log.Warn().Err(ve.Cause).Msg("rejected a webhook: invalid signature, headers or payload")
			http.Error(w, "invalid webhook signature, headers or payload", http.StatusBadRequest)
		case errors.Is(err, githubapp.ErrCapacityExceeded):
			log.Warn().Err(err).Msg("webhook queue full or shutting down: answered 503")
			http.Error(w, "queue full, try again later", http.StatusServiceUnavailable)
		default:
			log.Error().Err(err).Msg("webhook failed")
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
	}
}

// webhookResponse acknowledges deliveries; events no handler takes are
// counted as ignored.
func webhookResponse(m *queue.Metrics) githubapp.ResponseCallback {
	return func(w http.ResponseWriter, r *http.Request, event string, handled bool) {
		if !handled {
			m.Delivery(event, "ignored")
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.WriteHeader(http.StatusOK)
	}
}

func metricsHandler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
