package main

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/handlers/queue"
	"github.com/tugboatops/tugboat/kube"
)

// replicas is how this process coordinates with the bot's other replicas:
// through Leases and a ConfigMap in the home namespace when one is
// configured (home:), or within the process alone when not.
type replicas struct {
	home      *kube.Cluster // nil: a single replica
	namespace string
	identity  string
	// locker is the per-PR lock of the webhook queue and the resync.
	locker queue.Locker
	// shared records handled deliveries across replicas and restarts (nil
	// for a single replica: the queue's memory is all there is).
	shared queue.SeenStore
	leader prometheus.Gauge
}

// newReplicas sets up the coordination cfg.Home asks for.
func newReplicas(cfg *config.Server, clusters *kube.Registry, identity string, reg prometheus.Registerer) (*replicas, error) {
	r := &replicas{identity: identity, namespace: cfg.Home.Namespace,
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tugboat_leader",
			Help: "1 while this replica leads (runs the resync and drift rounds), else 0.",
		})}
	reg.MustRegister(r.leader)
	if !cfg.Home.Enabled() {
		r.locker = queue.NewLocalLocker()
		return r, nil
	}
	var (
		home *kube.Cluster
		err  error
	)
	if cfg.Home.InCluster {
		home, err = kube.NewRegistry(map[string]kube.ClusterSpec{"home": {InCluster: true}}).Cluster("home")
	} else {
		home, err = clusters.Cluster(cfg.Home.Cluster)
	}
	if err != nil {
		return nil, fmt.Errorf("home %s: %w", cfg.Home, err)
	}
	r.home = home
	r.locker = &kube.PRLocker{Cluster: home, Namespace: r.namespace, Identity: identity}
	r.shared = &kube.DeliveryRing{Cluster: home, Namespace: r.namespace}
	return r, nil
}

// lead runs loops until ctx ends: only while this replica leads when a
// home is configured (client-go leader election over the Lease
// tugboat-leader), always when it is the only replica.
func (r *replicas) lead(ctx context.Context, loops []kube.Loop) {
	log := zerolog.Ctx(ctx)
	if r.home == nil {
		r.leader.Set(1)
		log.Info().Msg("single replica (no home configured): running the singletons")
		done := make(chan struct{}, len(loops))
		for _, l := range loops {
			go func() {
				defer func() { done <- struct{}{} }()
				l.Run(log.With().Str("loop", l.Name).Logger().WithContext(ctx))
			}()
		}
		for range loops {
			<-done
		}
		return
	}
	err := kube.Lead(ctx, r.home, kube.LeaderOptions{Namespace: r.namespace, Identity: r.identity,
		OnChange: func(leading bool) {
			if leading {
				r.leader.Set(1)
			} else {
				r.leader.Set(0)
			}
		}}, loops...)
	if err != nil {
		log.Error().Err(err).Msg("leader election failed: this replica runs no singletons")
	}
}
