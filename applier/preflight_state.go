package applier

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/tugboatops/tugboat/kube"
)

// stateAccess is what every write to an environment needs whatever its
// plan: reading the system namespace (created when missing), the PR lock
// and the apply mutex (Leases: the lock is created, updated and deleted;
// the mutex's leader election gets, creates and updates), and the
// ApplySet parent that records the apply (a Secret).
func stateAccess() []access {
	ns := kube.SystemNamespace
	return []access{
		{"get", "", "namespaces", ""},
		{"get", "coordination.k8s.io", "leases", ns},
		{"create", "coordination.k8s.io", "leases", ns},
		{"update", "coordination.k8s.io", "leases", ns},
		{"delete", "coordination.k8s.io", "leases", ns},
		{"get", "", "secrets", ns},
		{"create", "", "secrets", ns},
		{"patch", "", "secrets", ns},
	}
}

// waitAccess adds the reads the wait for convergence needs: each written
// object is read back (get, or list when there are several of a kind), and
// a workload's current pods (and a Deployment's ReplicaSets) are listed so
// a crashlooping rollout fails at once instead of at its progress
// deadline. Events and pod logs only explain a failure: the role marks
// them optional, and without them the result just says less.
func (a *run) waitAccess(writes []desired, add func(access, string)) error {
	for _, d := range writes {
		ref := d.change.Ref
		m, err := a.c.mapping(ref)
		if err != nil {
			if isCRDInstanceOfNewCRD(ref, writes) {
				continue
			}
			return err
		}
		ns := ""
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			ns = ref.Namespace
		}
		for _, v := range []string{"get", "list"} {
			add(access{v, m.Resource.Group, m.Resource.Resource, ns}, ref.String())
		}
		if isWorkload(ref) {
			add(access{"list", "", "pods", ref.Namespace}, ref.String())
			if ref.Kind == "Deployment" {
				add(access{"list", "apps", "replicasets", ref.Namespace}, ref.String())
			}
		}
	}
	return nil
}

// CheckAccess asks the API server, with SelfSubjectAccessReviews, whether
// the bot may take an environment's PR lock and apply mutex and record its
// applies in cluster kc — before any of them is touched. Without this, a
// missing Lease rule would surface as a raw Forbidden halfway through, or
// worse, as an apply mutex whose leader election retries forever. A denial
// is a *DeniedError naming each missing verb, resource and namespace.
func CheckAccess(ctx context.Context, kc *kube.Cluster) error {
	c, err := newClients(kc)
	if err != nil {
		return fmt.Errorf("check access: %w", err)
	}
	need := map[access][]string{}
	for _, ac := range stateAccess() {
		need[ac] = nil
	}
	return review(ctx, c.core, need)
}
