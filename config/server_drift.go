package config

import "time"

// Drift configures drift detection (server config `drift:`).
type Drift struct {
	// Interval is how often every environment the bot deployed is compared
	// with its last applied commit (default DefaultDriftInterval). An
	// environment's own `drift:` in .tugboat.yaml overrides it.
	Interval time.Duration `yaml:"interval"`
	// Concurrency bounds the environments checked at once (default 4).
	Concurrency int `yaml:"concurrency"`
}

// Defaults of Drift.
const (
	DefaultDriftInterval    = 10 * time.Minute
	DefaultDriftConcurrency = 4
)

func (d *Drift) applyDefaults() {
	if d.Interval == 0 {
		d.Interval = DefaultDriftInterval
	}
	if d.Concurrency == 0 {
		d.Concurrency = DefaultDriftConcurrency
	}
}
