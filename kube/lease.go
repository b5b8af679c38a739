package kube

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Labels on tugboat's Leases, so `kubectl get lease -n tugboat-system -l
// tugboat.dev/lease=lock` lists every PR lock, and one environment's Leases
// are found by its set's hash (a repository name is not a valid label
// value; the hash is).
const (
	LabelLease       = "tugboat.dev/lease"
	LabelSetHash     = "tugboat.dev/set"
	LabelEnvironment = "tugboat.dev/environment"

	// LeaseLock and LeaseMutex are the values of LabelLease.
	LeaseLock  = "lock"
	LeaseMutex = "mutex"
)

// LockName is the name of the environment's PR lock Lease.
func (a ApplySet) LockName() string { return "tugboat-lock-" + a.Env + "-" + a.Hash() }

// MutexName is the name of the environment's apply mutex Lease.
func (a ApplySet) MutexName() string { return "tugboat-mutex-" + a.Env + "-" + a.Hash() }

func (a ApplySet) leaseLabels(kind string) map[string]string {
	return map[string]string{LabelLease: kind, LabelSetHash: a.Hash(), LabelEnvironment: a.Env}
}

// ensureSystemNamespace creates SystemNamespace unless it exists. A read
// first, since it almost always exists and a read is the cheaper request.
func ensureSystemNamespace(ctx context.Context, c *Cluster) error {
	_, err := c.Dynamic.Resource(namespaceGVR).Get(ctx, SystemNamespace, metav1.GetOptions{})
	if err == nil {
		return nil
	}
	if !apierrors.IsNotFound(err) {
		return fmt.Errorf("read namespace %s: %w", SystemNamespace, err)
	}
	ns := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": SystemNamespace},
	}}
	if err := applyObject(ctx, c, namespaceGVR, "", ns); err != nil {
		return fmt.Errorf("create namespace %s: %w", SystemNamespace, err)
	}
	return nil
}
