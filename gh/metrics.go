package gh

import "github.com/prometheus/client_golang/prometheus"

// Metrics counts GitHub API calls and tracks the rate limit left. A nil
// *Metrics records nothing.
type Metrics struct {
	calls     *prometheus.CounterVec
	remaining prometheus.Gauge
}

// NewMetrics registers the GitHub metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tugboat_github_api_calls_total",
			Help: "GitHub API requests made, by HTTP method and response status (\"error\" when no response came).",
		}, []string{"method", "status"}),
		remaining: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tugboat_github_rate_limit_remaining",
			Help: "X-RateLimit-Remaining of the latest GitHub API response.",
		}),
	}
	reg.MustRegister(m.calls, m.remaining)
	return m
}

func (m *Metrics) call(method, status string) {
	if m != nil {
		m.calls.WithLabelValues(method, status).Inc()
	}
}

func (m *Metrics) rateLimit(n int) {
	if m != nil {
		m.remaining.Set(float64(n))
	}
}
