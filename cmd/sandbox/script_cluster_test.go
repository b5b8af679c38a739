package main

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// rolloutProblem tells a finished rollout from every way one is not.
func TestRolloutProblem(t *testing.T) {
	four := int32(4)
	done := func() *appsv1.Deployment {
		d := &appsv1.Deployment{}
		d.Generation = 3
		d.Spec.Replicas = &four
		d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "web", Image: "ghcr.io/acme/shop-web:1.5.0"}}
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: 3, Replicas: 4, UpdatedReplicas: 4, ReadyReplicas: 4, AvailableReplicas: 4}
		return d
	}
	if p := rolloutProblem(done(), "ghcr.io/acme/shop-web:1.5.0", 4); p != "" {
		t.Errorf("a finished rollout: %s", p)
	}
	for name, tc := range map[string]struct {
		change func(*appsv1.Deployment)
		image  string
		want   string
	}{
		"other image":       {func(*appsv1.Deployment) {}, "ghcr.io/acme/shop-web:1.6.0", "runs [ghcr.io/acme/shop-web:1.5.0]"},
		"other replicas":    {func(d *appsv1.Deployment) { three := int32(3); d.Spec.Replicas = &three }, "", "wants 3 replicas, want 4"},
		"not observed":      {func(d *appsv1.Deployment) { d.Status.ObservedGeneration = 2 }, "", "not observed"},
		"old pod left":      {func(d *appsv1.Deployment) { d.Status.Replicas = 5 }, "", "5 in all"},
		"not ready":         {func(d *appsv1.Deployment) { d.Status.ReadyReplicas = 3 }, "", "3 ready"},
		"not all updated":   {func(d *appsv1.Deployment) { d.Status.UpdatedReplicas = 2 }, "", "2 updated"},
		"not all available": {func(d *appsv1.Deployment) { d.Status.AvailableReplicas = 1 }, "", "1 available"},
	} {
		d := done()
		tc.change(d)
		if p := rolloutProblem(d, tc.image, 4); !strings.Contains(p, tc.want) {
			t.Errorf("%s: problem %q, want it to say %q", name, p, tc.want)
		}
	}
}
