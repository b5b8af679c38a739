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
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// Client-side rate limits of every cluster client. client-go's defaults
// (5 QPS, burst 10) would make a plan of 1,000 objects take minutes; the API
// server's own priority and fairness protects it from us.
const (
	DefaultQPS   = 200
	DefaultBurst = 400
)

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

	mu        sync.Mutex
	lastReset time.Time
}

// NewCluster builds the client bundle for cfg. cfg is copied; its rate
// limits are raised to DefaultQPS/DefaultBurst unless already set higher.
func NewCluster(name string, cfg *rest.Config) (*Cluster, error) {
	cfg = rest.CopyConfig(cfg)
	if cfg.QPS < DefaultQPS {
		cfg.QPS = DefaultQPS
	}
	if cfg.Burst < DefaultBurst {
		cfg.Burst = DefaultBurst
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
	cached := memory.NewMemCacheClient(disco)
	return &Cluster{
		Name:         name,
		Config:       cfg,
		Dynamic:      dyn,
		Discovery:    cached,
		Mapper:       restmapper.NewDeferredDiscoveryRESTMapper(cached),
		Coordination: coord,
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
	rc := c.Discovery.RESTClient()
	if rc == nil {
		return errors.New("no REST client")
	}
	err := rc.Get().AbsPath("/version").Do(ctx).Error()
	if err != nil {
		return fmt.Errorf("cluster %s unreachable: %w", c.Name, err)
	}
	return nil
}
