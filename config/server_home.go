package config

import (
	"fmt"
	"time"
)

// Home is where the bot coordinates its replicas: the cluster and namespace
// of the leader-election Lease, the per-PR Leases and the delivery ring.
// Absent, the bot runs as a single replica: it leads alone, serializes
// pull requests in process and remembers deliveries in memory only.
type Home struct {
	// Cluster names a cluster of the registry (clusters:).
	Cluster string `yaml:"cluster"`
	// InCluster uses the bot's own service account instead (the usual case
	// when the bot runs in Kubernetes).
	InCluster bool `yaml:"in_cluster"`
	// Namespace defaults to DefaultHomeNamespace.
	Namespace string `yaml:"namespace"`
}

// Enabled reports whether a home is configured.
func (h Home) Enabled() bool { return h.Cluster != "" || h.InCluster }

// Resync is the leader's catch-up round (see ops.Resync).
type Resync struct {
	// Interval is a Go duration ("5m"); "off" disables the round. Default
	// DefaultResyncInterval.
	Interval string `yaml:"interval"`
	// Every is Interval parsed; 0 when off.
	Every time.Duration `yaml:"-"`
}

// Defaults of Home and Resync.
const (
	DefaultHomeNamespace  = "tugboat-system"
	DefaultResyncInterval = 5 * time.Minute
	// MinResyncInterval keeps a mistyped interval from hammering GitHub:
	// every round lists every open pull request of every installation.
	MinResyncInterval = 10 * time.Second
)

// checkHome validates home: and resync: and applies their defaults.
func (s *Server) checkHome(bad func(format string, args ...any)) {
	h := &s.Home
	if h.Namespace == "" {
		h.Namespace = DefaultHomeNamespace
	}
	switch {
	case h.Cluster != "" && h.InCluster:
		bad("home: give cluster or in_cluster, not both")
	case h.Cluster != "":
		if _, ok := s.Clusters[h.Cluster]; !ok {
			bad("home.cluster %q is not in clusters:", h.Cluster)
		}
	}
	r := &s.Resync
	switch r.Interval {
	case "":
		r.Every = DefaultResyncInterval
	case "off":
		r.Every = 0
	default:
		d, err := time.ParseDuration(r.Interval)
		switch {
		case err != nil:
			bad("resync.interval %q: want a duration like 5m, or off", r.Interval)
		case d < MinResyncInterval:
			bad("resync.interval %s: at least %s", d, MinResyncInterval)
		default:
			r.Every = d
		}
	}
}

// String names the home in logs: cluster/namespace.
func (h Home) String() string {
	if h.InCluster {
		return fmt.Sprintf("in-cluster/%s", h.Namespace)
	}
	return h.Cluster + "/" + h.Namespace
}
