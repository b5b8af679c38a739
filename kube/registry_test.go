package kube

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

func TestRegistryFromKubeconfig(t *testing.T) {
	reg := NewRegistry(map[string]ClusterSpec{
		"staging":   {Kubeconfig: cluster.Kubeconfig()},
		"bad-ctx":   {Kubeconfig: cluster.Kubeconfig(), Context: "no-such-context"},
		"no-file":   {Kubeconfig: "/nonexistent/kubeconfig"},
		"no-config": {},
	})
	c, err := reg.Cluster("staging")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(context.Background(), 5*time.Second); err != nil {
		t.Fatalf("ping: %v", err)
	}
	if c.Config.QPS >= 0 || c.Config.RateLimiter != nil {
		t.Errorf("client-side rate limit left on: QPS %v, limiter %v", c.Config.QPS, c.Config.RateLimiter)
	}
	if again, _ := reg.Cluster("staging"); again != c {
		t.Errorf("a second lookup built a second client bundle")
	}
	for name, want := range map[string]string{
		"bad-ctx":   "no-such-context",
		"no-file":   "/nonexistent/kubeconfig",
		"no-config": "neither kubeconfig nor in_cluster",
		"prod":      `cluster "prod" is not in the server's cluster registry`,
	} {
		if _, err := reg.Cluster(name); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one mentioning %q", name, err, want)
		}
	}
	if got := strings.Join(reg.Names(), ","); got != "bad-ctx,no-config,no-file,staging" {
		t.Errorf("Names() = %s", got)
	}
}

func TestRESTMapperLearnsNewCRDs(t *testing.T) {
	c, err := NewCluster("test", cluster.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	group := fmt.Sprintf("g%d.example.com", time.Now().UnixNano()%1e9)
	gvk := schema.GroupVersionKind{Group: group, Version: "v1", Kind: "Gadget"}
	if _, known, err := c.IsNamespaced(gvk); err != nil || known {
		t.Fatalf("before the CRD: known=%v err=%v", known, err)
	}
	if namespaced, known, err := c.IsNamespaced(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}); !namespaced || !known || err != nil {
		t.Fatalf("ConfigMap: namespaced=%v known=%v err=%v", namespaced, known, err)
	}
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": "gadgets." + group},
		"spec": map[string]any{
			"group": group, "scope": "Cluster",
			"names": map[string]any{"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "listKind": "GadgetList"},
			"versions": []any{map[string]any{"name": "v1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object"}}}},
		},
	}}
	if err := applyObject(context.Background(), c, schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}, "", crd); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		namespaced, known, err := c.IsNamespaced(gvk)
		if err == nil && known {
			if namespaced {
				t.Errorf("a cluster-scoped kind reported as namespaced")
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new kind never became known: %v", err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func TestListMembersOnlyFindsTheSet(t *testing.T) {
	c, err := NewCluster("test", cluster.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ns := fmt.Sprintf("members-%d", time.Now().UnixNano()%1e9)
	mine := ApplySet{Repo: "acme/a", Env: "prod"}
	theirs := ApplySet{Repo: "acme/b", Env: "prod"}
	cm := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	if err := applyObject(ctx, c, namespaceGVR, "", &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}); err != nil {
		t.Fatal(err)
	}
	for name, set := range map[string]ApplySet{"one": mine, "two": mine, "other": theirs} {
		labels := map[string]any{}
		for k, v := range set.MemberLabels() {
			labels[k] = v
		}
		obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": name, "namespace": ns, "labels": labels}}}
		if err := applyObject(ctx, c, cm, ns, obj); err != nil {
			t.Fatal(err)
		}
	}
	inv := &Inventory{GroupKinds: []schema.GroupKind{{Kind: "ConfigMap"}, {Group: "gone.example.com", Kind: "Vanished"}}, Namespaces: []string{ns}}
	members, err := ListMembers(ctx, c, mine, inv)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range members {
		names = append(names, m.GetName())
	}
	if strings.Join(names, ",") != "one,two" {
		t.Errorf("members %v, want one,two", names)
	}
	// The parent of an ApplySet with another id under the same name is refused.
	force := true
	body := fmt.Sprintf(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":%q}}`, SystemNamespace)
	if _, err := c.Dynamic.Resource(namespaceGVR).Patch(ctx, SystemNamespace, types.ApplyPatchType, []byte(body), metav1.PatchOptions{FieldManager: "test", Force: &force}); err != nil {
		t.Fatal(err)
	}
	forged := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": mine.ParentName(), "namespace": SystemNamespace,
			"labels": map[string]any{LabelApplySetID: theirs.ID()}}}}
	if err := applyObject(ctx, c, secretGVR, SystemNamespace, forged); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadInventory(ctx, c, mine); err == nil || !strings.Contains(err.Error(), LabelApplySetID) {
		t.Errorf("a parent with the wrong id was accepted: %v", err)
	}
}

func TestGroupKindsRoundTrip(t *testing.T) {
	gks := []schema.GroupKind{{Group: "apps", Kind: "Deployment"}, {Kind: "ConfigMap"}, {Group: "apps", Kind: "Deployment"},
		{Group: "monitoring.coreos.com", Kind: "ServiceMonitor"}}
	s := FormatGroupKinds(gks)
	if s != "ConfigMap,Deployment.apps,ServiceMonitor.monitoring.coreos.com" {
		t.Fatalf("FormatGroupKinds = %q", s)
	}
	if back := FormatGroupKinds(ParseGroupKinds(s + ", ")); back != s {
		t.Errorf("round trip: %q", back)
	}
}
