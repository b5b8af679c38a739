package planner

import (
	"context"
	"fmt"
	"slices"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"k8s.io/client-go/discovery"

	"github.com/tugboatops/tugboat/internal/panics"
)

// capabilitiesTimeout bounds reading a cluster's version and API groups
// for a Helm render (client-go's discovery calls take no context).
const capabilitiesTimeout = 10 * time.Second

// clusterCapabilities reads what a chart sees as .Capabilities from the
// target cluster: its version and every API version and kind it serves,
// listed as Helm's own install does (action.GetVersionSet). Discovery is
// the cluster's cached one, so this costs one /version request.
func clusterCapabilities(ctx context.Context, dc discovery.DiscoveryInterface) (*HelmCapabilities, error) {
	type result struct {
		caps *HelmCapabilities
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		var r result
		defer func() { ch <- r }()
		defer panics.Recover(ctx, &r.err)
		v, err := dc.ServerVersion()
		if err != nil {
			r.err = fmt.Errorf("read the cluster's version: %w", err)
			return
		}
		set, err := action.GetVersionSet(dc)
		if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
			r.err = fmt.Errorf("read the cluster's API groups: %w", err)
			return
		}
		list := []string(set)
		slices.Sort(list) // discovery's order is a map's: renders must not change with it
		r.caps = &HelmCapabilities{KubeVersion: v.GitVersion, APIVersions: list}
	}()
	t := time.NewTimer(capabilitiesTimeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.caps, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		return nil, fmt.Errorf("the cluster did not answer discovery within %s", capabilitiesTimeout)
	}
}
