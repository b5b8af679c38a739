package ops

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics records plan durations. A nil *Metrics records nothing.
type Metrics struct {
	planDuration *prometheus.HistogramVec
}

// NewMetrics registers the operations' metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{planDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "tugboat_plan_duration_seconds",
		Help:    "Time to plan one environment of a pull request, by environment.",
		Buckets: []float64{0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120},
	}, []string{"env"})}
	reg.MustRegister(m.planDuration)
	return m
}

func (m *Metrics) planned(env string, d time.Duration) {
	if m != nil {
		m.planDuration.WithLabelValues(env).Observe(d.Seconds())
	}
}
