package kube

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/disk"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
)

// DiscoveryCacheTTL is how long discovery documents cached on disk are
// used without asking the API server: kubectl's own choice. A kind the
// cache does not know refreshes it at once (see Cluster.RESTMapping), so a
// CRD created since is found anyway.
const DiscoveryCacheTTL = 6 * time.Hour

// discoveryFor returns the cached discovery client of cfg. With cacheDir
// empty it is an in-memory cache over disco (one process's lifetime, the
// server's case). Otherwise it is client-go's on-disk cache (what kubectl
// keeps under ~/.kube/cache), one directory per API server host below
// cacheDir, so a short-lived `bot plan` or `bot apply` does not rediscover
// the cluster on every run.
func discoveryFor(cfg *rest.Config, disco discovery.DiscoveryInterface, cacheDir string) (discovery.CachedDiscoveryInterface, error) {
	if cacheDir == "" {
		return memory.NewMemCacheClient(disco), nil
	}
	// The disk cache's client has its own HTTP client (with an HTTP cache
	// that revalidates by ETag); it is used only when the cache is stale.
	c, err := disk.NewCachedDiscoveryClientForConfig(cfg,
		filepath.Join(cacheDir, "discovery", hostDir(cfg.Host)),
		filepath.Join(cacheDir, "http"),
		DiscoveryCacheTTL)
	if err != nil {
		return nil, fmt.Errorf("discovery cache in %s: %w", cacheDir, err)
	}
	return c, nil
}

// notPathSafe matches what kubectl replaces in a host to make it a
// directory name.
var notPathSafe = regexp.MustCompile(`[^(\w/.)]`)

// hostDir is the cache directory name of an API server host, as kubectl
// computes it ("https://10.0.0.1:6443" → "10.0.0.1_6443").
func hostDir(host string) string {
	host = strings.TrimPrefix(strings.TrimPrefix(host, "https://"), "http://")
	return notPathSafe.ReplaceAllString(host, "_")
}
