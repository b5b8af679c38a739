package benchtest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tugboatops/tugboat/internal/kubetest"
)

// TestAsUserIsNotExempt: with API Priority and Fairness on, kubetest's
// admin is classified by the "exempt" flow schema (no limits at all), and
// the benchmark user by a flow schema that is not, as a real tool's
// account is; the user may write anything, through its client config and
// its kubeconfig file alike.
func TestAsUserIsNotExempt(t *testing.T) {
	c := kubetest.Start(t, kubetest.WithPriorityAndFairness(), kubetest.WithUsers(User))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	kubeconfig, cfg, err := AsUser(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if got := flowSchema(t, c, c.RESTConfig()); got != "exempt" {
		t.Errorf("admin's flow schema = %q, want exempt (else the test proves nothing)", got)
	}
	if got := flowSchema(t, c, cfg); got == "exempt" || got == "" {
		t.Errorf("the benchmark user's flow schema = %q, want one that is not exempt", got)
	}
	fromFile, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []*rest.Config{cfg, fromFile} {
		hc, err := rest.HTTPClientFor(cfg)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(cfg.Host, "/")+"/api/v1/namespaces/default/configmaps?dryRun=All",
			strings.NewReader(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Errorf("create as %s: status %d, want 201", User, resp.StatusCode)
		}
	}
}

// flowSchema is the name of the flow schema that classified a request
// made with cfg (the API server names it by UID in a response header).
func flowSchema(t *testing.T, c *kubetest.Cluster, cfg *rest.Config) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(cfg.Host, "/")+"/api/v1/namespaces/default/configmaps", nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	uid := resp.Header.Get("X-Kubernetes-PF-FlowSchema-UID")
	if uid == "" {
		t.Fatalf("no flow schema header: is APF on? (status %d)", resp.StatusCode)
	}
	list, err := c.Client().FlowcontrolV1().FlowSchemas().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, fs := range list.Items {
		if string(fs.UID) == uid {
			return fs.Name
		}
	}
	t.Fatalf("no flow schema has UID %s", uid)
	return ""
}
