package main

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugboatops/tugboat/kube"
)

// What --script checks in the clusters themselves, as someone with a
// kubeconfig would (`kubectl get deploy`, `kubectl get lease`): the bot's
// own reports are not taken for the truth.

// rolloutGrace is how long a rollout may still be settling after the bot
// reported it converged; it never should be, but a check that polls
// briefly says what it saw last instead of racing the controllers.
const rolloutGrace = 30 * time.Second

// rolledOut checks Deployment ns/name in cluster: its container runs image
// (when given), it wants replicas (when > 0), and the rollout is complete —
// every replica updated, ready and available, no old pod left.
func (s *Sandbox) rolledOut(ctx context.Context, cluster, ns, name, image string, replicas int32) error {
	var problem string
	err := poll(ctx, rolloutGrace, func() bool {
		d, err := s.Clusters[cluster].Client().AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			problem = err.Error()
			return false
		}
		problem = rolloutProblem(d, image, replicas)
		return problem == ""
	})
	if err != nil {
		return fmt.Errorf("%s: Deployment %s/%s: %s (%w)", cluster, ns, name, problem, err)
	}
	return nil
}

func rolloutProblem(d *appsv1.Deployment, image string, replicas int32) string {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	st := d.Status
	switch {
	case image != "" && (len(d.Spec.Template.Spec.Containers) == 0 || d.Spec.Template.Spec.Containers[0].Image != image):
		var got []string
		for _, c := range d.Spec.Template.Spec.Containers {
			got = append(got, c.Image)
		}
		return fmt.Sprintf("runs %v, want %s", got, image)
	case replicas > 0 && want != replicas:
		return fmt.Sprintf("wants %d replicas, want %d", want, replicas)
	case st.ObservedGeneration < d.Generation:
		return fmt.Sprintf("generation %d not observed yet (%d)", d.Generation, st.ObservedGeneration)
	case st.UpdatedReplicas != want || st.ReadyReplicas != want || st.AvailableReplicas != want || st.Replicas != want:
		return fmt.Sprintf("rollout not complete: %d wanted, %d updated, %d ready, %d available, %d in all",
			want, st.UpdatedReplicas, st.ReadyReplicas, st.AvailableReplicas, st.Replicas)
	}
	return ""
}

// gone checks Deployment ns/name no longer exists in cluster (pruned).
func (s *Sandbox) gone(ctx context.Context, cluster, ns, name string) error {
	_, err := s.Clusters[cluster].Client().AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("%s: read Deployment %s/%s: %w", cluster, ns, name, err)
	}
	return fmt.Errorf("%s: Deployment %s/%s still exists: it should have been pruned", cluster, ns, name)
}

// lockHolder is the holder of env's PR lock (a Lease in tugboat-system of
// the environment's cluster), or "" when it is not locked.
func (s *Sandbox) lockHolder(ctx context.Context, env string) (string, error) {
	name := kube.ApplySet{Repo: repoName, Env: env}.LockName()
	l, err := s.Clusters[env].Client().CoordinationV1().Leases(kube.SystemNamespace).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("%s: read Lease %s/%s: %w", env, kube.SystemNamespace, name, err)
	case l.Spec.HolderIdentity == nil:
		return "", nil
	}
	return *l.Spec.HolderIdentity, nil
}
