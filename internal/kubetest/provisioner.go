package kubetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// The annotations through which the PV controller and an external
// provisioner talk (k8s.io/component-helpers/storage/volume): the
// controller names the provisioner it delegates a claim to, and a
// provisioned volume names its provisioner so that, once released, the
// controller leaves its deletion to that provisioner.
const (
	annStorageProvisioner     = "volume.kubernetes.io/storage-provisioner"
	annBetaStorageProvisioner = "volume.beta.kubernetes.io/storage-provisioner"
	annProvisionedBy          = "pv.kubernetes.io/provisioned-by"
)

// provisioner is the cluster's volume provisioner: for each pending claim
// of a class provisioned by Provisioner it creates a hostPath
// PersistentVolume of the claimed size, pre-bound to the claim through
// claimRef, and lets the controller-manager's PV controller bind the two;
// a released volume whose reclaim policy is Delete is deleted again.
//
// It runs in the process that started the cluster, beside the control
// plane's child processes and living exactly as long (they die with that
// process): the control-plane binary stays untouched, so its cached build
// stays valid. It is hand-written on client-go's informers and work queue
// because sig-storage-lib-external-provisioner would be a new module for
// what is two small reconcile functions here.
type provisioner struct {
	cs      kubernetes.Interface
	dir     string // volumes' host paths live below it
	claims  corelisters.PersistentVolumeClaimLister
	volumes corelisters.PersistentVolumeLister
	queue   workqueue.TypedRateLimitingInterface[provisionKey]
}

// provisionKey is a queued claim (namespace and name) or volume (name only).
type provisionKey struct {
	volume          bool
	namespace, name string
}

// startProvisioner runs the provisioner until the returned stop function
// is called; stop waits for it to finish.
func (c *Cluster) startProvisioner() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	cs := c.Client()
	factory := informers.NewSharedInformerFactory(cs, 10*time.Minute)
	p := &provisioner{
		cs:      cs,
		dir:     filepath.Join(c.dir, "volumes"),
		claims:  factory.Core().V1().PersistentVolumeClaims().Lister(),
		volumes: factory.Core().V1().PersistentVolumes().Lister(),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[provisionKey](),
			workqueue.TypedRateLimitingQueueConfig[provisionKey]{Name: "kubetest-provisioner"}),
	}
	onClaim := func(obj any) {
		if pvc, ok := obj.(*corev1.PersistentVolumeClaim); ok {
			p.queue.Add(provisionKey{namespace: pvc.Namespace, name: pvc.Name})
		}
	}
	onVolume := func(obj any) {
		if pv, ok := obj.(*corev1.PersistentVolume); ok {
			p.queue.Add(provisionKey{volume: true, name: pv.Name})
		}
	}
	_, _ = factory.Core().V1().PersistentVolumeClaims().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: onClaim, UpdateFunc: func(_, obj any) { onClaim(obj) },
	})
	_, _ = factory.Core().V1().PersistentVolumes().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: onVolume, UpdateFunc: func(_, obj any) { onVolume(obj) },
	})
	factory.Start(ctx.Done())

	var wg sync.WaitGroup
	wg.Go(func() {
		// Until the caches have synced, the listers may miss a volume
		// already created for a claim; the deterministic volume name makes
		// that harmless, but waiting keeps the first round quiet.
		factory.WaitForCacheSync(ctx.Done())
		for p.next(ctx) {
		}
	})
	return func() {
		cancel()
		p.queue.ShutDown()
		wg.Wait()
		factory.Shutdown()
	}
}

// next handles one queued key, requeueing it with backoff on failure.
func (p *provisioner) next(ctx context.Context) bool {
	key, shutdown := p.queue.Get()
	if shutdown {
		return false
	}
	defer p.queue.Done(key)
	var err error
	if key.volume {
		err = p.reclaim(ctx, key.name)
	} else {
		err = p.provision(ctx, key.namespace, key.name)
	}
	if err != nil && ctx.Err() == nil {
		p.queue.AddRateLimited(key)
		return true
	}
	p.queue.Forget(key)
	return true
}

// provision creates the volume of a pending claim that is ours.
func (p *provisioner) provision(ctx context.Context, namespace, name string) error {
	claim, err := p.claims.PersistentVolumeClaims(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if claim.Spec.VolumeName != "" || claim.Status.Phase != corev1.ClaimPending || claim.DeletionTimestamp != nil {
		return nil
	}
	// A claim of no class is given the default class by the PV controller
	// (retroactive default assignment); a selector asks for a particular
	// existing volume, which no provisioner can make (external provisioners
	// refuse such claims too).
	if claim.Spec.StorageClassName == nil || *claim.Spec.StorageClassName == "" || claim.Spec.Selector != nil {
		return nil
	}
	class := *claim.Spec.StorageClassName
	if class != StorageClassName && claim.Annotations[annStorageProvisioner] != Provisioner &&
		claim.Annotations[annBetaStorageProvisioner] != Provisioner {
		return nil
	}
	size, ok := claim.Spec.Resources.Requests[corev1.ResourceStorage]
	if !ok {
		return nil // the apiserver refuses such claims; nothing to size
	}
	reclaim := corev1.PersistentVolumeReclaimDelete
	if sc, err := p.cs.StorageV1().StorageClasses().Get(ctx, class, metav1.GetOptions{}); err == nil && sc.ReclaimPolicy != nil {
		reclaim = *sc.ReclaimPolicy
	}
	volumeName := "pvc-" + string(claim.UID) // as external provisioners name them: one per claim
	path := filepath.Join(p.dir, volumeName)
	// No kubelet mounts it (kwok's pods are fake); the directory exists so
	// that the volume is what it says.
	if err := os.MkdirAll(path, 0o755); err != nil {
		return fmt.Errorf("create volume directory: %w", err)
	}
	hostPathType := corev1.HostPathDirectory
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        volumeName,
			Annotations: map[string]string{annProvisionedBy: Provisioner},
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes:                   claim.Spec.AccessModes,
			VolumeMode:                    claim.Spec.VolumeMode,
			StorageClassName:              class,
			PersistentVolumeReclaimPolicy: reclaim,
			ClaimRef: &corev1.ObjectReference{
				Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: claim.Namespace, Name: claim.Name, UID: claim.UID,
			},
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: path, Type: &hostPathType},
			},
		},
	}
	if _, err := p.cs.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create volume %s for claim %s/%s: %w", volumeName, claim.Namespace, claim.Name, err)
	}
	return nil
}

// reclaim deletes a volume of ours that its claim released and whose
// reclaim policy is Delete: the PV controller leaves that to the
// provisioner named in the volume's provisioned-by annotation.
func (p *provisioner) reclaim(ctx context.Context, name string) error {
	pv, err := p.volumes.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if pv.Annotations[annProvisionedBy] != Provisioner || pv.Status.Phase != corev1.VolumeReleased ||
		pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete || pv.DeletionTimestamp != nil {
		return nil
	}
	uid := pv.UID
	err = p.cs.CoreV1().PersistentVolumes().Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete released volume %s: %w", name, err)
	}
	if pv.Spec.HostPath != nil && strings.HasPrefix(pv.Spec.HostPath.Path, p.dir+string(filepath.Separator)) {
		_ = os.RemoveAll(pv.Spec.HostPath.Path)
	}
	return nil
}
