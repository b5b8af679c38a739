package kubetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// waitReady polls /readyz until the apiserver answers ok, failing early
// when the process has exited.
func (c *Cluster) waitReady(ctx context.Context, timeout time.Duration) error {
	cs, err := kubernetes.NewForConfig(c.RESTConfig())
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if !c.apiserver.running() {
			return fmt.Errorf("kube-apiserver exited")
		}
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(rctx)
		cancel()
		if err == nil && string(body) == "ok" {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("kube-apiserver not ready after %s: %v", timeout, last)
}

// waitSettled waits until a Node is Ready (kwok runs) and the default
// ServiceAccount exists (the controller-manager runs): before that, pods
// cannot be created or scheduled and tests would see flaky starts.
func (c *Cluster) waitSettled(ctx context.Context, timeout time.Duration) error {
	cs := c.Client()
	deadline := time.Now().Add(timeout)
	for {
		if why := c.exitedComponent(); why != "" {
			return fmt.Errorf("%s exited", why)
		}
		nodeReady, saReady := false, false
		if nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); err == nil {
			for _, n := range nodes.Items {
				for _, cond := range n.Status.Conditions {
					if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
						nodeReady = true
					}
				}
			}
		}
		if _, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{}); err == nil {
			saReady = true
		} else if !apierrors.IsNotFound(err) {
			saReady = false
		}
		if nodeReady && saReady {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster not settled after %s (node ready %v, default service account %v)", timeout, nodeReady, saReady)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (c *Cluster) exitedComponent() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.others {
		if !p.running() {
			return p.name
		}
	}
	return ""
}

// Stop stops the apiserver (and the etcd inside it); the other components
// keep running and reconnect after Restart, as they would in a real
// cluster whose apiserver went away.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.apiserver == nil || !c.apiserver.running() {
		return fmt.Errorf("kubetest: apiserver is not running")
	}
	c.apiserver.stop(5 * time.Second)
	return nil
}

// Restart stops the apiserver if it runs, starts it again on the same
// port with the same etcd data, and waits until it is ready. Objects
// survive a restart.
func (c *Cluster) Restart(ctx context.Context) error {
	c.mu.Lock()
	if c.apiserver.running() {
		c.apiserver.stop(5 * time.Second)
	}
	err := c.apiserver.start()
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.waitReady(ctx, 120*time.Second)
}

// Logs returns the last lines of every component's log, for failing tests.
func (c *Cluster) Logs() string {
	var b strings.Builder
	for _, name := range []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"} {
		data, err := os.ReadFile(filepath.Join(c.dir, name+".log"))
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > 40 {
			lines = lines[len(lines)-40:]
		}
		fmt.Fprintf(&b, "---- %s/%s (last %d lines; full log in %s) ----\n%s\n", c.name, name, len(lines), c.dir, strings.Join(lines, "\n"))
	}
	return b.String()
}
