package kube

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
)

// requestLog records the paths of the requests made through a rest.Config.
type requestLog struct {
	mu    sync.Mutex
	paths []string
}

func (l *requestLog) config() *rest.Config {
	cfg := rest.CopyConfig(cluster.RESTConfig())
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			l.mu.Lock()
			l.paths = append(l.paths, r.URL.Path)
			l.mu.Unlock()
			return rt.RoundTrip(r)
		})
	})
	return cfg
}

// discovery returns the discovery requests seen (/api, /apis and below).
func (l *requestLog) discovery() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, p := range l.paths {
		if p == "/api" || p == "/apis" || strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/apis/") {
			out = append(out, p)
		}
	}
	return out
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A second process with the same cache dir maps kinds without asking the
// API server, and still finds a CRD created after the cache was written.
func TestDiscoveryCacheOnDisk(t *testing.T) {
	dir := t.TempDir()
	configMap := schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}

	var first requestLog
	reg := NewRegistry(nil)
	reg.CacheDiscoveryIn(dir)
	if err := reg.AddConfig("one", first.config()); err != nil {
		t.Fatal(err)
	}
	c, _ := reg.Cluster("one")
	if ns, known, err := c.IsNamespaced(configMap); !ns || !known || err != nil {
		t.Fatalf("ConfigMap: namespaced=%v known=%v err=%v", ns, known, err)
	}
	if len(first.discovery()) == 0 {
		t.Fatalf("a cold cache made no discovery request")
	}
	if _, err := os.Stat(filepath.Join(dir, "discovery", hostDir(cluster.RESTConfig().Host), "servergroups.json")); err != nil {
		t.Fatalf("no discovery cache under the host's directory: %v", err)
	}

	var second requestLog
	reg2 := NewRegistry(nil)
	reg2.CacheDiscoveryIn(dir)
	if err := reg2.AddConfig("two", second.config()); err != nil {
		t.Fatal(err)
	}
	c2, _ := reg2.Cluster("two")
	if ns, known, err := c2.IsNamespaced(configMap); !ns || !known || err != nil {
		t.Fatalf("ConfigMap from the cache: namespaced=%v known=%v err=%v", ns, known, err)
	}
	if err := c2.Ping(context.Background(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := second.discovery(); len(got) != 0 {
		t.Errorf("a warm cache still asked the API server: %v", got)
	}

	// A CRD created after the cache was written is found by refreshing it.
	group := fmt.Sprintf("d%d.example.com", time.Now().UnixNano()%1e9)
	gvk := schema.GroupVersionKind{Group: group, Version: "v1", Kind: "Widget"}
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": "widgets." + group},
		"spec": map[string]any{
			"group": group, "scope": "Namespaced",
			"names": map[string]any{"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
			"versions": []any{map[string]any{"name": "v1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object"}}}},
		},
	}}
	if err := applyObject(context.Background(), c2, schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}, "", crd); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ns, known, err := c2.IsNamespaced(gvk)
		if err == nil && known && ns {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new kind never became known through the disk cache: known=%v err=%v", known, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
