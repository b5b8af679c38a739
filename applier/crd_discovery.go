package applier

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// waitDiscovered waits until discovery serves the kinds of new CRDs. A CRD
// is Established a moment before the API server's discovery documents list
// its group (the discovery handler is updated asynchronously): a mapper
// reset in between reads the old documents, and the custom resources of
// the next stage fail with "no matches for kind". So the mapper is reset
// and asked again, backing off, until every served version maps.
func (a *run) waitDiscovered(ctx context.Context, crds []desired) error {
	var want []schema.GroupVersionKind
	for _, d := range crds {
		want = append(want, servedKinds(d.obj)...)
	}
	if len(want) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, crdEstablishTimeout)
	defer cancel()
	delay := 50 * time.Millisecond
	for {
		a.c.cluster.Mapper.Reset()
		var missing []string
		for _, gvk := range want {
			_, err := a.c.cluster.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
			if meta.IsNoMatchError(err) {
				missing = append(missing, gvk.Kind+"."+gvk.Group+"/"+gvk.Version)
				continue
			}
			if err != nil {
				return fmt.Errorf("discover the kinds of new CRDs: %w", err)
			}
		}
		if len(missing) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("CRDs established, but the API server's discovery does not serve %s yet: %w",
				strings.Join(missing, ", "), context.Cause(ctx))
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}

// servedKinds lists the group, kind and served versions of a CRD object.
func servedKinds(crd *unstructured.Unstructured) []schema.GroupVersionKind {
	if crd == nil {
		return nil
	}
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	var out []schema.GroupVersionKind
	for _, v := range versions {
		m, ok := v.(map[string]any)
		if !ok {
			continue
		}
		name, _ := m["name"].(string)
		served, _ := m["served"].(bool)
		if name != "" && served && group != "" && kind != "" {
			out = append(out, schema.GroupVersionKind{Group: group, Version: name, Kind: kind})
		}
	}
	return out
}
