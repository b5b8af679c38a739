package kube

import (
	"fmt"
	"sort"
	"sync"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// ClusterSpec says how to reach one cluster: a kubeconfig file (and
// optionally a context in it), or the in-cluster service account.
type ClusterSpec struct {
	Kubeconfig string
	Context    string
	InCluster  bool
}

// Registry maps cluster names (as .tugboat.yaml environments use them) to
// client bundles. Bundles are built on first use and then shared, so every
// plan and apply against one cluster uses one connection and one discovery
// cache. Safe for concurrent use.
type Registry struct {
	mu       sync.Mutex
	specs    map[string]ClusterSpec
	clusters map[string]*Cluster
	cacheDir string
}

// NewRegistry returns a registry of the given clusters.
func NewRegistry(specs map[string]ClusterSpec) *Registry {
	r := &Registry{specs: map[string]ClusterSpec{}, clusters: map[string]*Cluster{}}
	for name, s := range specs {
		r.specs[name] = s
	}
	return r
}

// CacheDiscoveryIn makes clusters built from now on keep their discovery
// documents on disk below dir (one directory per API server host), as
// kubectl does under ~/.kube/cache: a short-lived command then does not
// rediscover the cluster on every run. Without it, discovery is cached in
// memory for the registry's lifetime.
func (r *Registry) CacheDiscoveryIn(dir string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cacheDir = dir
}

// AddConfig registers a cluster reached with cfg (tests and embedders that
// already hold a rest.Config).
func (r *Registry) AddConfig(name string, cfg *rest.Config) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := newCluster(name, cfg, r.cacheDir)
	if err != nil {
		return err
	}
	r.clusters[name] = c
	return nil
}

// Names lists the registered clusters, sorted.
func (r *Registry) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	for n := range r.specs {
		seen[n] = true
	}
	for n := range r.clusters {
		seen[n] = true
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Cluster returns the client bundle of the named cluster.
func (r *Registry) Cluster(name string) (*Cluster, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.clusters[name]; ok {
		return c, nil
	}
	spec, ok := r.specs[name]
	if !ok {
		return nil, fmt.Errorf("cluster %q is not in the server's cluster registry", name)
	}
	cfg, err := spec.restConfig()
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", name, err)
	}
	c, err := newCluster(name, cfg, r.cacheDir)
	if err != nil {
		return nil, err
	}
	r.clusters[name] = c
	return c, nil
}

func (s ClusterSpec) restConfig() (*rest.Config, error) {
	if s.InCluster {
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("in-cluster config: %w", err)
		}
		return cfg, nil
	}
	if s.Kubeconfig == "" {
		return nil, fmt.Errorf("neither kubeconfig nor in_cluster set")
	}
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: s.Kubeconfig}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: s.Context}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", s.Kubeconfig, err)
	}
	return cfg, nil
}
