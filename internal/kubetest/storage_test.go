package kubetest_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tugboatops/tugboat/internal/kubetest"
)

// statefulSetWithClaims is a StatefulSet whose volumeClaimTemplates name no
// storage class, as most real-world manifests do: the default class must
// be filled in and each replica's claim bound.
func statefulSetWithClaims(name string, replicas int32, size string) *appsv1.StatefulSet {
	labels := map[string]string{"app": name}
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.StatefulSetSpec{
			Replicas: &replicas, ServiceName: name,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "db", Image: "postgres:17",
					VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/var/lib/postgresql/data"}},
				}}},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceStorage: resource.MustParse(size),
					}},
				},
			}},
		},
	}
}

// TestStatefulSetWithVolumeClaimTemplatesBecomesReady: every replica's
// claim gets the default StorageClass and a volume of the claimed size
// bound to it, and the StatefulSet's pods become Ready.
func TestStatefulSetWithVolumeClaimTemplatesBecomesReady(t *testing.T) {
	cs := cluster.Client()
	ctx := ctxFor(t, 2*time.Minute)
	ns := uniqueName("volumes")
	namespace(t, cs, ns)
	if _, err := cs.AppsV1().StatefulSets(ns).Create(ctx, statefulSetWithClaims("db", 3, "2Gi"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, 90*time.Second, func() (bool, string) {
		sts, err := cs.AppsV1().StatefulSets(ns).Get(ctx, "db", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return sts.Status.ReadyReplicas == 3 && sts.Status.ObservedGeneration == sts.Generation,
			fmt.Sprintf("statefulset ready %d/3; claims: %s", sts.Status.ReadyReplicas, claimStates(ctx, cs, ns))
	})
	for i := range 3 {
		claim, err := cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, fmt.Sprintf("data-db-%d", i), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if claim.Status.Phase != corev1.ClaimBound {
			t.Fatalf("claim %s is %s, want Bound", claim.Name, claim.Status.Phase)
		}
		if claim.Spec.StorageClassName == nil || *claim.Spec.StorageClassName != kubetest.StorageClassName {
			t.Errorf("claim %s has class %v, want the default %q", claim.Name, claim.Spec.StorageClassName, kubetest.StorageClassName)
		}
		if got := claim.Status.Capacity[corev1.ResourceStorage]; got.Cmp(resource.MustParse("2Gi")) != 0 {
			t.Errorf("claim %s has capacity %s, want 2Gi", claim.Name, got.String())
		}
		pv, err := cs.CoreV1().PersistentVolumes().Get(ctx, claim.Spec.VolumeName, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("volume of claim %s: %v", claim.Name, err)
		}
		if ref := pv.Spec.ClaimRef; ref == nil || ref.UID != claim.UID || pv.Status.Phase != corev1.VolumeBound {
			t.Errorf("volume %s: phase %s, claimRef %+v; want Bound to %s", pv.Name, pv.Status.Phase, ref, claim.UID)
		}
	}
}

// TestReleasedClaimsVolumeIsDeleted: a claim no pod uses binds right away
// (the class binds immediately), and deleting it deletes its volume, as
// the class's reclaim policy says.
func TestReleasedClaimsVolumeIsDeleted(t *testing.T) {
	cs := cluster.Client()
	ctx := ctxFor(t, 2*time.Minute)
	ns := uniqueName("claims")
	namespace(t, cs, ns)
	class := kubetest.StorageClassName
	claim, err := cs.CoreV1().PersistentVolumeClaims(ns).Create(ctx, &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "cache"},
		Spec: corev1.PersistentVolumeClaimSpec{
			StorageClassName: &class,
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceStorage: resource.MustParse("100Mi"),
			}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var volume string
	waitFor(t, ctx, 60*time.Second, func() (bool, string) {
		c, err := cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, claim.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		volume = c.Spec.VolumeName
		return c.Status.Phase == corev1.ClaimBound, "claim " + string(c.Status.Phase)
	})
	if err := cs.CoreV1().PersistentVolumeClaims(ns).Delete(ctx, claim.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, 60*time.Second, func() (bool, string) {
		pv, err := cs.CoreV1().PersistentVolumes().Get(ctx, volume, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, ""
		}
		if err != nil {
			t.Fatal(err)
		}
		return false, fmt.Sprintf("volume %s still exists, phase %s", volume, pv.Status.Phase)
	})
}

// TestDefaultStorageClass: exactly one class is marked default, and it is
// the one kubetest documents.
func TestDefaultStorageClass(t *testing.T) {
	ctx := ctxFor(t, 30*time.Second)
	classes, err := cluster.Client().StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var defaults []string
	for _, sc := range classes.Items {
		if sc.Annotations["storageclass.kubernetes.io/is-default-class"] == "true" {
			defaults = append(defaults, sc.Name)
			if sc.Provisioner != kubetest.Provisioner {
				t.Errorf("default class %s has provisioner %q, want %q", sc.Name, sc.Provisioner, kubetest.Provisioner)
			}
		}
	}
	if len(defaults) != 1 || defaults[0] != kubetest.StorageClassName {
		t.Fatalf("default storage classes = %v, want [%s]", defaults, kubetest.StorageClassName)
	}
}

// claimStates lists a namespace's claims and their phases, for failures.
func claimStates(ctx context.Context, cs kubernetes.Interface, ns string) string {
	claims, err := cs.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err.Error()
	}
	s := ""
	for _, c := range claims.Items {
		s += fmt.Sprintf("%s=%s ", c.Name, c.Status.Phase)
	}
	return s
}

// waitFor polls done until it reports true, failing the test with done's
// last description after timeout.
func waitFor(t *testing.T, ctx context.Context, timeout time.Duration, done func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, why := done()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not done after %s: %s", timeout, why)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%v: %s", ctx.Err(), why)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// uniqueName is prefix plus a random suffix, so a test can run again
// (-count) against the same cluster.
func uniqueName(prefix string) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}
