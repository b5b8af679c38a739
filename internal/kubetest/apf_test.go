package kubetest_test

import (
	"net/http"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/tugboatops/tugboat/internal/kubetest"
)

// flowSchemaOf GETs the namespace list and returns the APF flow schema the
// API server says it classified the request into ("" with APF off).
func flowSchemaOf(t *testing.T, c *kubetest.Cluster) string {
	t.Helper()
	hc, err := rest.HTTPClientFor(c.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(c.Host() + "/api/v1/namespaces")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET namespaces: %s", resp.Status)
	}
	return resp.Header.Get("X-Kubernetes-PF-FlowSchema-UID")
}

// WithPriorityAndFairness starts the API server with API Priority and
// Fairness on, as real clusters run; without it, kubetest turns APF off.
func TestPriorityAndFairnessOption(t *testing.T) {
	if fs := flowSchemaOf(t, cluster); fs != "" {
		t.Errorf("APF is on in a default kubetest cluster (flow schema %s)", fs)
	}
	apf := kubetest.Start(t, kubetest.WithName("apf"), kubetest.WithPriorityAndFairness())
	if fs := flowSchemaOf(t, apf); fs == "" {
		t.Errorf("APF is off in a cluster started WithPriorityAndFairness: no flow schema header")
	}
}
