package applier

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/planner"
)

// clients are the API clients the applier and waiter use for one cluster:
// the registry's shared dynamic client and discovery cache, plus a typed
// client for pods, ReplicaSets, Events and access reviews.
type clients struct {
	cluster *kube.Cluster
	dyn     dynamic.Interface
	// core speaks protobuf: the waiter lists every pod of a namespace each
	// poll, and protobuf decodes several times faster than JSON.
	core kubernetes.Interface
}

func newClients(kc *kube.Cluster) (*clients, error) {
	pcfg := rest.CopyConfig(kc.Config)
	pcfg.ContentType = "application/vnd.kubernetes.protobuf"
	pcfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	core, err := kubernetes.NewForConfig(pcfg)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: kubernetes client: %w", kc.Name, err)
	}
	return &clients{cluster: kc, dyn: kc.Dynamic, core: core}, nil
}

// mapping finds the resource of ref (the registry refreshes discovery once
// for a kind created a moment ago, such as a CRD in the same apply).
func (c *clients) mapping(ref planner.ObjectRef) (*meta.RESTMapping, error) {
	m, err := c.cluster.RESTMapping(schema.GroupKind{Group: ref.Group, Kind: ref.Kind}, ref.Version)
	if err != nil {
		return nil, fmt.Errorf("%s: find API resource: %w", ref, err)
	}
	return m, nil
}

// resource is the dynamic client for ref's resource (namespaced when ref is).
func (c *clients) resource(ref planner.ObjectRef) (dynamic.ResourceInterface, *meta.RESTMapping, error) {
	m, err := c.mapping(ref)
	if err != nil {
		return nil, nil, err
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return c.dyn.Resource(m.Resource).Namespace(ref.Namespace), m, nil
	}
	return c.dyn.Resource(m.Resource), m, nil
}
