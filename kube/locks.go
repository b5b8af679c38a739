package kube

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ListLocks lists the held PR locks in a cluster by ApplySet, with one
// LIST (ReadLock per environment would be one GET each): for pages that
// show every environment's lock holder. Leases that do not name their
// repository and environment, or whose name does not match them, are left
// out, as are emptied ones.
func ListLocks(ctx context.Context, c *Cluster) (map[ApplySet]LockInfo, error) {
	list, err := c.Coordination.Leases(SystemNamespace).List(ctx, metav1.ListOptions{LabelSelector: LabelLease + "=" + LeaseLock})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list locks in %s of cluster %s: %w", SystemNamespace, c.Name, err)
	}
	out := map[ApplySet]LockInfo{}
	for i := range list.Items {
		l := &list.Items[i]
		set := ApplySet{Repo: l.Annotations[AnnotationRepository], Env: l.Annotations[AnnotationEnvironment]}
		if set.Repo == "" || set.Env == "" || l.Name != set.LockName() {
			continue
		}
		if info := lockOf(l); info.Holder != "" {
			out[set] = info
		}
	}
	return out, nil
}
