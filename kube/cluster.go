package kube

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// Every cluster client has no client-side rate limit. client-go's default
// (5 QPS, burst 10) would make a plan of 1,000 objects take minutes, and any
// fixed token bucket makes a new process (whose bucket starts at its burst)
// slower than a warm one: at 200 QPS, 1,000 dry-runs took `bot plan` 3 s
// where the API server needed 1.2 s. What bounds the load is tugboat's own
// concurrency (dry-runs and reads in flight per plan, apply and wait), and
// the API server protects itself with priority and fairness, whose 429
// answers (with Retry-After) client-go retries.

// mapperResetInterval bounds how often an unknown kind refreshes discovery:
// a plan full of kinds the cluster does not know must not refetch discovery
// once per object.
const mapperResetInterval = 2 * time.Second

// Cluster is the client bundle of one cluster: one HTTP client (and so one
// HTTP/2 connection) shared by every request, and a discovery cache.
type Cluster struct {
	Name      string
	Config    *rest.Config
	Dynamic   dynamic.Interface
	Discovery discovery.CachedDiscoveryInterface
	Mapper    *restmapper.DeferredDiscoveryRESTMapper
	// Coordination is a typed client for Leases (locks and mutexes), as
	// client-go's leader election needs one.
	Coordination coordinationv1client.CoordinationV1Interface

	// ping is a REST client on the shared HTTP client: an on-disk
	// discovery cache's own client would open a second connection.
	ping rest.Interface

	mu        sync.Mutex
	lastReset time.Time
}

// NewCluster builds the client bundle for cfg. cfg is copied, and its
// client-side rate limit is turned off (see above) unless it brings a
// RateLimiter of its own.
func NewCluster(name string, cfg *rest.Config) (*Cluster, error) {
	return newCluster(name, cfg, "")
}

// newCluster is NewCluster with discovery cached on disk below
// discoveryCacheDir (see discoveryFor); "" caches it in memory.
func newCluster(name string, cfg *rest.Config, discoveryCacheDir string) (*Cluster, error) {
	cfg = rest.CopyConfig(cfg)
	if cfg.RateLimiter == nil {
		cfg.QPS, cfg.Burst = -1, 0 // negative: no token bucket at all
	}
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: http client: %w", name, err)
	}
	dyn, err := dynamic.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: dynamic client: %w", name, err)
	}
	disco, err := discovery.NewDiscoveryClientForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: discovery client: %w", name, err)
	}
	coord, err := coordinationv1client.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: coordination client: %w", name, err)
	}
	cached, err := discoveryFor(cfg, disco, discoveryCacheDir)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", name, err)
	}
	return &Cluster{
		Name:         name,
		Config:       cfg,
		Dynamic:      dyn,
		Discovery:    cached,
		Mapper:       restmapper.NewDeferredDiscoveryRESTMapper(cached),
		Coordination: coord,
		ping:         disco.RESTClient(),
	}, nil
}

// RESTMapping maps a group/kind (preferring version when given) to its
// resource. A kind unknown to the cached discovery refreshes the cache once
// (rate-limited), because a CRD may have been created since it was filled.
func (c *Cluster) RESTMapping(gk schema.GroupKind, version string) (*meta.RESTMapping, error) {
	var versions []string
	if version != "" {
		versions = []string{version}
	}
	m, err := c.Mapper.RESTMapping(gk, versions...)
	if err == nil || !meta.IsNoMatchError(err) {
		return m, err
	}
	if !c.resetDue() {
		return nil, err
	}
	c.Mapper.Reset()
	return c.Mapper.RESTMapping(gk, versions...)
}

func (c *Cluster) resetDue() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.lastReset) < mapperResetInterval {
		return false
	}
	c.lastReset = time.Now()
	return true
}

// IsNamespaced reports whether objects of gvk are namespaced. known is false
// (with a nil error) when the cluster does not serve the kind at all.
func (c *Cluster) IsNamespaced(gvk schema.GroupVersionKind) (namespaced, known bool, err error) {
	m, err := c.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("cluster %s: map %s: %w", c.Name, gvk, err)
	}
	return m.Scope.Name() == meta.RESTScopeNameNamespace, true, nil
}

// Ping checks within timeout that the API server answers, so a cluster that
// is down costs one short wait instead of one timeout per object.
func (c *Cluster) Ping(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rc := c.ping
	if rc == nil {
		return errors.New("no REST client")
	}
	err := rc.Get().AbsPath("/version").Do(ctx).Error()
	if err != nil {
		return fmt.Errorf("cluster %s unreachable: %w", c.Name, err)
	}
	return nil
}
