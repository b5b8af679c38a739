package queue

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Delivery outcomes, the values of the outcome label.
const (
	OutcomeHandled   = "handled"
	OutcomeFailed    = "failed"
	OutcomeDuplicate = "duplicate"
	OutcomeRejected  = "rejected" // queue full or shutting down: answered 503
	OutcomeInvalid   = "invalid"  // bad signature or headers: answered 400
)

// Metrics counts deliveries and tracks the queue depth. A nil *Metrics
// records nothing.
type Metrics struct {
	deliveries *prometheus.CounterVec
	queueDepth prometheus.Gauge
	running    prometheus.Gauge
	ack        prometheus.Histogram
}

// NewMetrics registers the intake metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tugboat_webhook_deliveries_total",
			Help: "Webhook deliveries by event and outcome (handled, failed, duplicate, rejected, invalid).",
		}, []string{"event", "outcome"}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tugboat_webhook_queue_depth",
			Help: "Webhook events waiting to be handled.",
		}),
		running: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tugboat_webhook_events_running",
			Help: "Webhook events being handled right now.",
		}),
		// GitHub gives up after 10 s; the target is 50 ms at the 99th
		// percentile, so the buckets are fine below 100 ms.
		ack: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tugboat_webhook_ack_seconds",
			Help:    "Time from a webhook request's handler starting to its answer being written (body read, signature checked, event queued).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
	}
	reg.MustRegister(m.deliveries, m.queueDepth, m.running, m.ack)
	return m
}

// Delivery counts one delivery with its outcome; event is labelled by
// EventLabel.
func (m *Metrics) Delivery(event, outcome string) { m.delivery(event, outcome) }

func (m *Metrics) delivery(event, outcome string) {
	if m != nil {
		m.deliveries.WithLabelValues(EventLabel(event), outcome).Inc()
	}
}

func (m *Metrics) depth(waiting, running int) {
	if m != nil {
		m.queueDepth.Set(float64(waiting))
		m.running.Set(float64(running))
	}
}

// Ack records how long one webhook request took to be answered.
func (m *Metrics) Ack(d time.Duration) {
	if m != nil {
		m.ack.Observe(d.Seconds())
	}
}
