package queue

import "github.com/prometheus/client_golang/prometheus"

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
	}
	reg.MustRegister(m.deliveries, m.queueDepth, m.running)
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
