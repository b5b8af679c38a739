package applier

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/tugboatops/tugboat/planner"
)

// serviceAccountConfig makes ServiceAccount ns/name, binds it to
// cluster-admin (a binding tugboat does not manage) and returns a client
// config authenticating as it: tugboat as it runs in a cluster.
func serviceAccountConfig(t *testing.T, ctx context.Context, ns, name string) *rest.Config {
	t.Helper()
	admin := newTestEnv(t, "acme/"+ns+"-admin", "x", cluster.RESTConfig())
	applyAsAdmin(t, admin, fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata: {name: %[1]s}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: %[2]s, namespace: %[1]s}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: %[1]s-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
- {kind: ServiceAccount, name: %[2]s, namespace: %[1]s}
`, ns, name))
	t.Cleanup(func() {
		_ = adminDynamic(t).Resource(schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"}).
			Delete(context.Background(), ns+"-admin", metav1.DeleteOptions{})
	})
	tok, err := cluster.Client().CoreV1().ServiceAccounts(ns).CreateToken(ctx, name,
		&authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: ptr(int64(3600))}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("token for %s/%s: %v", ns, name, err)
	}
	cfg := rest.CopyConfig(cluster.RESTConfig())
	cfg.BearerToken = tok.Status.Token
	return cfg
}

// TestPruneDangerousKinds: tugboat runs as a ServiceAccount. Pruning what
// would cost more than the object — RBAC granting tugboat's own
// ServiceAccount (directly, through its groups, or as the role such a
// binding names), admission webhooks, an aggregated API, a LoadBalancer
// Service, a StatefulSet that deletes its claims — is flagged in the plan
// with its reason and refused, deleting nothing, unless dangerous changes
// are allowed. Their harmless neighbours are pruned without a word.
func TestPruneDangerousKinds(t *testing.T) {
	ctx := ctxFor(t, 4*time.Minute)
	ns := uniqueName("dangerkinds")
	self := "system:serviceaccount:" + ns + ":tugboat"
	e := newTestEnv(t, "acme/"+ns, "staging", serviceAccountConfig(t, ctx, ns, "tugboat"))
	group := ns + ".tugboat.test"
	e.put("rbac.yaml", fmt.Sprintf(`apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: self, namespace: %[1]s}
rules:
- {apiGroups: [""], resources: [configmaps], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: self, namespace: %[1]s}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: self}
subjects:
- {kind: ServiceAccount, name: tugboat, namespace: %[1]s}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: by-group, namespace: %[1]s}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects:
- {kind: Group, name: "system:serviceaccounts:%[1]s", apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: %[1]s-self}
rules:
- {apiGroups: [""], resources: [namespaces], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: %[1]s-self}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: %[1]s-self}
subjects:
- {kind: ServiceAccount, name: tugboat, namespace: %[1]s}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: other, namespace: %[1]s}
rules:
- {apiGroups: [""], resources: [configmaps], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: other, namespace: %[1]s}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: other}
subjects:
- {kind: User, name: someone-else, apiGroup: rbac.authorization.k8s.io}
`, ns))
	webhook := `- name: check.%[2]s
  clientConfig: {url: "https://127.0.0.1:9/check"}
  failurePolicy: Ignore
  sideEffects: None
  admissionReviewVersions: [v1]
  rules:
  - {apiGroups: ["%[2]s"], apiVersions: ["*"], operations: [CREATE], resources: [things]}
`
	e.put("cluster.yaml", fmt.Sprintf(`apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: %[1]s-check}
webhooks:
`+webhook+`---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: %[1]s-mutate}
webhooks:
`+webhook+`---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1alpha1.%[2]s}
spec: {group: %[2]s, version: v1alpha1, groupPriorityMinimum: 1000, versionPriority: 15}
`, ns, group))
	sts := func(name, whenDeleted string) string {
		return fmt.Sprintf(`apiVersion: apps/v1
kind: StatefulSet
metadata: {name: %[2]s, namespace: %[1]s}
spec:
  replicas: 0
  serviceName: %[2]s
  selector: {matchLabels: {app: %[2]s}}
  persistentVolumeClaimRetentionPolicy: {whenDeleted: %[3]s, whenScaled: Retain}
  template:
    metadata: {labels: {app: %[2]s}}
    spec:
      containers: [{name: db, image: "postgres:16"}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
`, ns, name, whenDeleted)
	}
	e.put("apps.yaml", fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: public, namespace: %[1]s}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: internal, namespace: %[1]s}
spec:
  selector: {app: web}
  ports: [{port: 80}]
`, ns), sts("db-deletes", "Delete"), sts("db-retains", "Retain"))
	e.mustConverge(ctx)

	for _, f := range []string{"rbac.yaml", "cluster.yaml", "apps.yaml"} {
		e.remove(f)
	}
	e.put("keep.yaml", configMapYAML(ns, "keep", map[string]string{"k": "v"}))
	p := e.plan(ctx)
	want := map[string]string{
		"Role/" + ns + "/self":                            "deletes a role bound to tugboat's own identity (" + self + ") by RoleBinding " + ns + "/self: tugboat may lose the access it needs to apply, prune or undo this",
		"RoleBinding/" + ns + "/self":                     "deletes a binding of tugboat's own identity (" + self + ") to Role self: tugboat may lose the access",
		"RoleBinding/" + ns + "/by-group":                 "deletes a binding of tugboat's own identity (" + self + ") to ClusterRole view:",
		"ClusterRole/" + ns + "-self":                     "deletes a role bound to tugboat's own identity (" + self + ") by ClusterRoleBinding " + ns + "-self:",
		"ClusterRoleBinding/" + ns + "-self":              "deletes a binding of tugboat's own identity (" + self + ") to ClusterRole " + ns + "-self:",
		"ValidatingWebhookConfiguration/" + ns + "-check": "deletes an admission webhook: the checks it makes on every matching request stop at once",
		"MutatingWebhookConfiguration/" + ns + "-mutate":  "deletes an admission webhook: the changes it makes to every matching request (defaults, injected sidecars) stop at once",
		"APIService/v1alpha1." + group:                    "deletes an aggregated API: every resource served under v1alpha1." + group + " becomes unreachable",
		"Service/" + ns + "/public":                       "deletes a LoadBalancer Service: its cloud load balancer and external address are released",
		"StatefulSet/" + ns + "/db-deletes":               "deletes the StatefulSet and, by its persistentVolumeClaimRetentionPolicy (whenDeleted: Delete), its PersistentVolumeClaims",
		"Role/" + ns + "/other":                           "",
		"RoleBinding/" + ns + "/other":                    "",
		"Service/" + ns + "/internal":                     "",
		"StatefulSet/" + ns + "/db-retains":               "",
	}
	var wantDangerous []string
	for ref, why := range want {
		if why != "" {
			wantDangerous = append(wantDangerous, ref)
		}
	}
	slices.Sort(wantDangerous)
	got := map[string]planner.Change{}
	for _, ch := range p.Changes {
		if ch.Action == planner.ActionDelete {
			got[ch.Ref.String()] = ch
		}
	}
	for ref, why := range want {
		ch, ok := got[ref]
		switch {
		case !ok:
			t.Errorf("%s: not pruned by the plan", ref)
		case why == "" && ch.Danger != "":
			t.Errorf("%s: marked dangerous (%q), want a plain delete", ref, ch.Danger)
		case !strings.HasPrefix(ch.Danger, why) || (why == "" && ch.Danger != ""):
			t.Errorf("%s: danger\n  %q\nwant it to start with\n  %q", ref, ch.Danger, why)
		}
	}
	if len(got) != len(want) || len(p.Problems) > 0 {
		t.Errorf("plan deletes %d objects, want %d; problems %v", len(got), len(want), p.Problems)
	}

	// Without --allow-dangerous: refused, naming each, deleting nothing.
	_, err := e.apply(ctx, Options{})
	var de *DangerousError
	if !errors.As(err, &de) {
		t.Fatalf("apply error = %v, want a DangerousError", err)
	}
	var refused []string
	for _, ch := range de.Changes {
		refused = append(refused, ch.Ref.String())
	}
	slices.Sort(refused)
	if !slices.Equal(refused, wantDangerous) {
		t.Errorf("refused\n  %s\nwant\n  %s", strings.Join(refused, "\n  "), strings.Join(wantDangerous, "\n  "))
	}
	for _, probe := range []struct {
		gvr      schema.GroupVersionResource
		ns, name string
	}{
		{gvrService, ns, "public"}, {gvrService, ns, "internal"},
		{schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"}, ns, "self"},
		{schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}, "", "v1alpha1." + group},
	} {
		if get(t, probe.gvr, probe.ns, probe.name) == nil {
			t.Errorf("%s %s/%s deleted by a refused apply", probe.gvr.Resource, probe.ns, probe.name)
		}
	}
	if get(t, gvrConfigMap, ns, "keep") != nil {
		t.Error("a refused apply still created the rest of the plan")
	}

	// With it: everything pruned.
	res, err := e.apply(ctx, Options{AllowDangerous: true})
	if err != nil || !res.Converged() {
		t.Fatalf("apply with AllowDangerous: %v\n%s", err, reportString(res))
	}
	if get(t, gvrService, ns, "public") != nil || get(t, schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"}, ns, "db-deletes") != nil {
		t.Error("dangerous objects still there after an allowed prune")
	}
	if after := e.plan(ctx); after.HasChanges() {
		t.Errorf("plan after the prune: %+v", after.Changes)
	}
}

var gvrService = schema.GroupVersionResource{Version: "v1", Resource: "services"}
