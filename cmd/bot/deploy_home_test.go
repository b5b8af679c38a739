package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/tugboatops/tugboat/internal/kubetest"
	"github.com/tugboatops/tugboat/kube"
)

// deploy/base alone — without the target-cluster roles the example overlay
// adds — lets its replicas coordinate: with only its ServiceAccount's token
// (TokenRequest), a replica reads its home namespace, leads, takes and
// releases a pull request's Lease and records deliveries in tugboat-system.
func TestDeployBaseCoordinatesReplicas(t *testing.T) {
	cluster := kubetest.Start(t)
	if out, err := exec.Command("kubectl", "--kubeconfig", cluster.Kubeconfig(), "apply", "--server-side",
		"-k", filepath.Join(repoRoot, "deploy/base")).CombinedOutput(); err != nil {
		t.Fatalf("kubectl apply -k deploy/base: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(zerolog.New(zerolog.NewTestWriter(t)).WithContext(context.Background()), 2*time.Minute)
	defer cancel()
	tok, err := cluster.Client().CoreV1().ServiceAccounts(deployNamespace).CreateToken(ctx, "tugboat",
		&authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("TokenRequest: %v", err)
	}
	admin := cluster.RESTConfig()
	reg := kube.NewRegistry(nil)
	if err := reg.AddConfig("home", &rest.Config{Host: admin.Host, BearerToken: tok.Status.Token,
		TLSClientConfig: rest.TLSClientConfig{CAData: admin.TLSClientConfig.CAData}}); err != nil {
		t.Fatal(err)
	}
	home, err := reg.Cluster("home")
	if err != nil {
		t.Fatal(err)
	}

	if err := kube.EnsureNamespace(ctx, home, deployNamespace); err != nil {
		t.Errorf("read the home namespace: %v", err)
	}
	locker := &kube.PRLocker{Cluster: home, Namespace: deployNamespace, Identity: "replica-a"}
	if _, unlock, err := locker.Lock(ctx, "acme/infra#1"); err != nil {
		t.Errorf("take a pull request's Lease: %v", err)
	} else {
		unlock()
	}
	ring := &kube.DeliveryRing{Cluster: home, Namespace: deployNamespace}
	if err := ring.Add(ctx, "delivery-1"); err != nil {
		t.Errorf("record a delivery: %v", err)
	} else if seen, err := ring.Seen(ctx, "delivery-1"); err != nil || !seen {
		t.Errorf("the recorded delivery is not seen: %t, %v", seen, err)
	}

	led := make(chan struct{})
	var once sync.Once
	leadCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- kube.Lead(leadCtx, home, kube.LeaderOptions{Namespace: deployNamespace, Identity: "replica-a",
			OnChange: func(leading bool) {
				if leading {
					once.Do(func() { close(led) })
				}
			}})
	}()
	select {
	case <-led:
	case <-time.After(60 * time.Second):
		t.Errorf("never became the leader with deploy/base's rights")
	}
	stop()
	<-done
}
