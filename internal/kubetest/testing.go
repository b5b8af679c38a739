package kubetest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// Start starts a cluster for one test and stops it when the test ends;
// when the test failed, the components' logs are printed first.
func Start(t testing.TB, opts ...Option) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c, err := New(ctx, opts...)
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(c.Logs())
		}
		c.Close()
	})
	return c
}

// Main runs a package's tests with one cluster shared by all of them:
//
//	var cluster *kubetest.Cluster
//	func TestMain(m *testing.M) { kubetest.Main(m, &cluster) }
//
// It exits the process with the tests' status.
func Main(m *testing.M, cluster **Cluster, opts ...Option) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	c, err := New(ctx, opts...)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*cluster = c
	code := m.Run()
	if code != 0 {
		fmt.Fprintln(os.Stderr, c.Logs())
	}
	c.Close()
	os.Exit(code)
}
