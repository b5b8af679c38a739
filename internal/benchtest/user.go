package benchtest

import (
	"context"
	"fmt"
	"time"

	authv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tugboatops/tugboat/internal/kubetest"
)

// User is the user the contenders of a benchmark act as: create its
// cluster with kubetest.WithUsers(User) and call AsUser.
const User = "bench"

// AsUser binds User to cluster-admin on c and returns its kubeconfig file
// and client config. kubetest's admin is in system:masters, which API
// Priority and Fairness exempts from every limit, so a benchmark "with APF
// on" measured nothing APF does unless its contenders act as a user like
// this one: authenticated, allowed everything by RBAC, and classified as a
// real tool's service account is (the global-default flow schema).
func AsUser(ctx context.Context, c *kubetest.Cluster) (kubeconfig string, cfg *rest.Config, err error) {
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "benchtest-" + User},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: User}},
	}
	_, err = c.Client().RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return "", nil, fmt.Errorf("bind %s to cluster-admin: %w", User, err)
	}
	cfg = c.UserRESTConfig(User)
	// RBAC's authorizer learns of the binding from a watch: wait until it
	// answers for the user, so the first timed request is not refused.
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return "", nil, err
	}
	for {
		r, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authv1.SelfSubjectAccessReview{
			Spec: authv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authv1.ResourceAttributes{Verb: "create", Group: "apps", Resource: "deployments"}},
		}, metav1.CreateOptions{})
		if err == nil && r.Status.Allowed {
			return c.UserKubeconfig(User), cfg, nil
		}
		select {
		case <-ctx.Done():
			return "", nil, fmt.Errorf("bind %s to cluster-admin: not in effect: %v", User, context.Cause(ctx))
		case <-time.After(50 * time.Millisecond):
		}
	}
}
