package main

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/tugboatops/tugboat/internal/kubetest"
)

// clusterNames are the sandbox's clusters; examples/.tugboat.yaml names
// them, and the bot's server config maps each to its kubeconfig.
var clusterNames = []string{"staging", "prod"}

// startClusters builds the control plane if needed (once, with its own
// progress), then starts every cluster in parallel. On error, the clusters
// already up are closed.
func startClusters(ctx context.Context, p *progress) (map[string]*kubetest.Cluster, error) {
	if _, err := kubetest.EnsureBinary(ctx, os.Stderr); err != nil {
		return nil, fmt.Errorf("control plane binary: %w", err)
	}
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		clusters = map[string]*kubetest.Cluster{}
		errs     []error
	)
	for _, name := range clusterNames {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := kubetest.New(ctx, kubetest.WithName(name), kubetest.WithProgress(p.prefixed(name+": ")))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("cluster %s: %w", name, err))
				return
			}
			clusters[name] = c
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		closeClusters(clusters)
		return nil, errs[0]
	}
	return clusters, nil
}

func closeClusters(clusters map[string]*kubetest.Cluster) {
	for _, c := range clusters {
		c.Close()
	}
}
