package kube

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// testCluster is a client bundle for the shared control plane.
func testCluster(t *testing.T) *Cluster {
	t.Helper()
	c, err := NewCluster("test", cluster.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// uniqueSet is an ApplySet no other test (or earlier -count run) uses.
func uniqueSet(t *testing.T, env string) ApplySet {
	t.Helper()
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return ApplySet{Repo: "acme/r" + hex.EncodeToString(b), Env: env}
}

func testCtx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// getLease reads a Lease; nil when absent.
func getLease(t *testing.T, c *Cluster, name string) *coordinationv1.Lease {
	t.Helper()
	l, err := c.Coordination.Leases(SystemNamespace).Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return l
}
