package kubetest

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// StorageClassName is the cluster's default StorageClass. Every real
// cluster has one, so real-world manifests (a StatefulSet's
// volumeClaimTemplates, a PersistentVolumeClaim without a class) expect
// their claims to bind. It is named "standard" like the default class of
// kind and minikube, so manifests written against those bind here too.
const StorageClassName = "standard"

// Provisioner is the provisioner name of the default StorageClass: claims
// of any class naming it get a volume from the cluster's provisioner (see
// provisioner.go).
const Provisioner = "kubetest.tugboat.dev/hostpath"

// isDefaultClassAnnotation marks the StorageClass that the DefaultStorageClass
// admission plugin (and the PV controller, retroactively) assigns to claims
// that name no class.
const isDefaultClassAnnotation = "storageclass.kubernetes.io/is-default-class"

// createStorageClass creates the default StorageClass. Its binding mode is
// Immediate rather than WaitForFirstConsumer (what kind's local-path uses):
// a claim no pod uses yet still binds, so an applier waiting for a
// standalone PersistentVolumeClaim to be Bound converges, and the
// provisioner needs no node selection since kwok's pods never mount
// anything.
func (c *Cluster) createStorageClass(ctx context.Context) error {
	immediate := storagev1.VolumeBindingImmediate
	reclaim := corev1.PersistentVolumeReclaimDelete
	sc := &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{
			Name:        StorageClassName,
			Annotations: map[string]string{isDefaultClassAnnotation: "true"},
		},
		Provisioner:       Provisioner,
		ReclaimPolicy:     &reclaim,
		VolumeBindingMode: &immediate,
	}
	_, err := c.Client().StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create storage class %s: %w", StorageClassName, err)
	}
	return nil
}
