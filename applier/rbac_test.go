package applier

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"
)

// applyAsAdmin server-side applies multi-document YAML as the admin.
func applyAsAdmin(t *testing.T, e *testEnv, docs string) {
	t.Helper()
	ctx := context.Background()
	dyn := adminDynamic(t)
	for _, doc := range strings.Split(docs, "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatalf("parse: %v\n%s", err, doc)
		}
		if obj == nil {
			continue
		}
		u := &unstructured.Unstructured{Object: obj}
		gvk := u.GroupVersionKind()
		m, err := e.kc.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := u.MarshalJSON()
		_, err = dyn.Resource(m.Resource).Namespace(u.GetNamespace()).Patch(ctx, u.GetName(), types.ApplyPatchType, body,
			metav1.PatchOptions{FieldManager: "test-admin", Force: ptr(true)})
		if err != nil {
			t.Fatalf("apply %s %s: %v", gvk.Kind, u.GetName(), err)
		}
	}
}

// TestLeastPrivilege runs the applier as a user bound to exactly the
// documented role: it applies and converges; an object of a kind the role
// does not grant is refused before anything is written.
func TestLeastPrivilege(t *testing.T) {
	ctx := ctxFor(t, 4*time.Minute)
	var rbac []string
	for _, f := range []string{"../deploy/rbac/namespace/namespace.yaml", "../deploy/rbac/roles/target-cluster.yaml"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rbac = append(rbac, string(data))
	}
	admin := newTestEnv(t, "acme/admin", "x", cluster.RESTConfig())
	applyAsAdmin(t, admin, strings.Join(rbac, "\n---\n"))

	const ns = "leastpriv"
	e := newTestEnv(t, "acme/leastpriv", "staging", cluster.UserRESTConfig("tugboat"))
	e.put("ns.yaml", namespaceYAML(ns))
	e.put("app.yaml", deploymentYAML(ns, "web", "nginx:1.27", 1), configMapYAML(ns, "cfg", map[string]string{"v": "1"}))
	e.put("old.yaml", configMapYAML(ns, "old", map[string]string{"v": "1"}))
	e.mustConverge(ctx)
	// Update and prune work with the role too.
	e.remove("old.yaml")
	e.put("app.yaml", deploymentYAML(ns, "web", "nginx:1.27", 1), configMapYAML(ns, "cfg", map[string]string{"v": "2"}))
	res := e.mustConverge(ctx)
	if len(res.Prunes) != 1 || res.Prunes[0].Outcome != Pruned {
		t.Fatalf("prunes = %+v", res.Prunes)
	}

	// A kind outside the role: refused, nothing written.
	e.put("pc.yaml", "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: leastpriv-high\nvalue: 1000\n")
	e.put("app.yaml", deploymentYAML(ns, "web", "nginx:1.27", 1), configMapYAML(ns, "cfg", map[string]string{"v": "3"}))
	_, err := e.apply(ctx, Options{})
	if err == nil {
		t.Fatal("apply of a PriorityClass without permission succeeded")
	}
	if !strings.Contains(err.Error(), "PriorityClass/leastpriv-high") || !strings.Contains(err.Error(), "forbidden") {
		t.Fatalf("error does not name the forbidden object: %v", err)
	}
	cm := get(t, gvrConfigMap, ns, "cfg")
	if v, _, _ := unstructured.NestedString(cm.Object, "data", "v"); v != "2" {
		t.Fatalf("cfg = %q: written although the apply was refused", v)
	}
}

// TestPreflightDeniesBeforeWriting: a permission only the real write needs
// (delete, for a prune; a dry-run never deletes) is checked with
// SelfSubjectAccessReviews before the first write.
func TestPreflightDeniesBeforeWriting(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	const ns = "preflight"
	admin := newTestEnv(t, "acme/admin", "x", cluster.RESTConfig())
	applyAsAdmin(t, admin, `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: limited
rules:
- apiGroups: [""]
  resources: [namespaces, configmaps]
  verbs: [get, list, watch, create, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: limited
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: limited}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: limited}
---
apiVersion: v1
kind: Namespace
metadata:
  name: tugboat-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: limited-state
  namespace: tugboat-system
rules:
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, create, patch]
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [get, create, update, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: limited-state
  namespace: tugboat-system
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: limited-state}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: limited}
`)
	e := newTestEnv(t, "acme/preflight", "staging", cluster.UserRESTConfig("limited"))
	e.put("ns.yaml", namespaceYAML(ns))
	e.put("a.yaml", configMapYAML(ns, "a", map[string]string{"v": "1"}))
	e.put("b.yaml", configMapYAML(ns, "b", map[string]string{"v": "1"}))
	e.mustConverge(ctx)

	e.remove("b.yaml")
	e.put("a.yaml", configMapYAML(ns, "a", map[string]string{"v": "2"}))
	parentBefore := get(t, gvrSecret, "tugboat-system", e.set().ParentName()).GetResourceVersion()
	_, err := e.apply(ctx, Options{})
	var de *DeniedError
	if !errors.As(err, &de) {
		t.Fatalf("apply error = %v, want a DeniedError", err)
	}
	if !strings.Contains(err.Error(), "delete configmaps in namespace preflight") || !strings.Contains(err.Error(), "ConfigMap/preflight/b") {
		t.Fatalf("error does not say which permission and object: %v", err)
	}
	a := get(t, gvrConfigMap, ns, "a")
	if v, _, _ := unstructured.NestedString(a.Object, "data", "v"); v != "1" {
		t.Fatal("configmap a updated although the apply was refused")
	}
	if get(t, gvrSecret, "tugboat-system", e.set().ParentName()).GetResourceVersion() != parentBefore {
		t.Fatal("ApplySet parent written although the apply was refused")
	}
}
