package applier

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/planner"
)

// TestApplyConvergeReapplyUpdatePrune walks one environment through its
// life: first apply into an empty cluster, a re-apply that writes nothing,
// an update, and the prune of a removed object.
func TestApplyConvergeReapplyUpdatePrune(t *testing.T) {
	ctx := ctxFor(t, 5*time.Minute)
	ns := uniqueName("life")
	e := newTestEnv(t, "acme/"+ns, "staging", cluster.RESTConfig())
	e.put("ns.yaml", namespaceYAML(ns))
	e.put("app.yaml", deploymentYAML(ns, "web", "nginx:1.27", 2), configMapYAML(ns, "web-config", map[string]string{"mode": "blue"}))
	e.put("extra.yaml", configMapYAML(ns, "extra", map[string]string{"k": "v"}))

	// 1. Into an empty cluster: created, converged, recorded.
	res := e.mustConverge(ctx)
	if got := len(res.Writes); got != 4 {
		t.Fatalf("writes = %d, want 4 (namespace, deployment, 2 configmaps)", got)
	}
	dep := get(t, gvrDeployment, ns, "web")
	if dep == nil {
		t.Fatal("deployment web not created")
	}
	if got := dep.GetLabels()[kube.LabelApplySetPartOf]; got != e.set().ID() {
		t.Fatalf("part-of label = %q, want %q", got, e.set().ID())
	}
	avail, _, _ := unstructured.NestedInt64(dep.Object, "status", "availableReplicas")
	if avail != 2 {
		t.Fatalf("available replicas = %d after convergence, want 2", avail)
	}
	for _, o := range res.Wait.Objects {
		if o.Status != StatusCurrent {
			t.Errorf("%s: %s, want Current", o.Ref, o.Status)
		}
	}
	parent := get(t, gvrSecret, kube.SystemNamespace, e.set().ParentName())
	if parent == nil {
		t.Fatal("ApplySet parent not created")
	}
	ann := parent.GetAnnotations()
	if ann[kube.AnnotationLastOutcome] != "converged" || ann[kube.AnnotationLastCommit] != e.in.Commit || ann[kube.AnnotationLastDigest] != res.Plan.Digest {
		t.Fatalf("record annotations = %v", ann)
	}
	if ann[kube.AnnotationContainsGroupKinds] != "ConfigMap,Deployment.apps,Namespace" {
		t.Fatalf("contains-group-kinds = %q", ann[kube.AnnotationContainsGroupKinds])
	}
	if ann[kube.AnnotationAdditionalNamespace] != ns {
		t.Fatalf("additional-namespaces = %q, want %q", ann[kube.AnnotationAdditionalNamespace], ns)
	}

	// 2. Re-applying the unchanged plan writes nothing, not even the record.
	before := versions(t, e, ns)
	res = e.mustConverge(ctx)
	if len(res.Writes) != 0 {
		t.Fatalf("re-apply wrote %d objects, want 0", len(res.Writes))
	}
	if after := versions(t, e, ns); !equalMaps(before, after) {
		t.Fatalf("re-apply changed resourceVersions:\nbefore %v\nafter  %v", before, after)
	}

	// 3. An update changes exactly what changed.
	e.put("app.yaml", deploymentYAML(ns, "web", "nginx:1.27", 2), configMapYAML(ns, "web-config", map[string]string{"mode": "green"}))
	e.in.Commit = "0000000000000000000000000000000000000002"
	before = versions(t, e, ns)
	res = e.mustConverge(ctx)
	if len(res.Writes) != 1 || res.Writes[0].Ref.Name != "web-config" || res.Writes[0].Outcome != WriteApplied {
		t.Fatalf("update writes = %+v, want only web-config applied", res.Writes)
	}
	cm := get(t, gvrConfigMap, ns, "web-config")
	if v, _, _ := unstructured.NestedString(cm.Object, "data", "mode"); v != "green" {
		t.Fatalf("web-config mode = %q, want green", v)
	}
	after := versions(t, e, ns)
	if before["deployment/web"] != after["deployment/web"] {
		t.Fatal("update rewrote the unchanged deployment")
	}

	// 4. A removed object is pruned; the record follows.
	e.remove("extra.yaml")
	e.in.Commit = "0000000000000000000000000000000000000003"
	res = e.mustConverge(ctx)
	if len(res.Prunes) != 1 || res.Prunes[0].Ref.Name != "extra" || res.Prunes[0].Outcome != Pruned {
		t.Fatalf("prunes = %+v, want extra deleted", res.Prunes)
	}
	if get(t, gvrConfigMap, ns, "extra") != nil {
		t.Fatal("configmap extra still exists after prune")
	}
	parent = get(t, gvrSecret, kube.SystemNamespace, e.set().ParentName())
	if got := parent.GetAnnotations()[kube.AnnotationLastCommit]; got != e.in.Commit {
		t.Fatalf("recorded commit = %q, want %q", got, e.in.Commit)
	}
}

// versions are the resourceVersions of everything the environment owns,
// its ApplySet parent included.
func versions(t *testing.T, e *testEnv, ns string) map[string]string {
	t.Helper()
	out := map[string]string{}
	dyn := adminDynamic(t)
	sel := metav1.ListOptions{LabelSelector: kube.LabelApplySetPartOf + "=" + e.set().ID()}
	cms, err := dyn.Resource(gvrConfigMap).Namespace(ns).List(context.Background(), sel)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range cms.Items {
		out["configmap/"+o.GetName()] = o.GetResourceVersion()
	}
	deps, err := dyn.Resource(gvrDeployment).Namespace(ns).List(context.Background(), sel)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range deps.Items {
		out["deployment/"+o.GetName()] = o.GetResourceVersion()
	}
	if n := get(t, gvrNamespace, "", ns); n != nil {
		out["namespace/"+ns] = n.GetResourceVersion()
	}
	if p := get(t, gvrSecret, kube.SystemNamespace, e.set().ParentName()); p != nil {
		out["parent"] = p.GetResourceVersion()
	}
	return out
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestOptOutAnnotations: prune: disabled keeps an object that is no longer
// rendered; apply: if-not-present creates once and never updates.
func TestOptOutAnnotations(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	const ns = "optout"
	e := newTestEnv(t, "acme/optout", "staging", cluster.RESTConfig())
	e.put("ns.yaml", namespaceYAML(ns))
	e.put("keep.yaml", configMapYAML(ns, "keep", map[string]string{"a": "1"}, AnnotationPrune, PruneDisabled))
	e.put("once.yaml", configMapYAML(ns, "once", map[string]string{"password": "initial"}, AnnotationApply, ApplyIfNotPresent))
	e.mustConverge(ctx)
	if get(t, gvrConfigMap, ns, "once") == nil {
		t.Fatal("if-not-present object was not created")
	}

	// Someone fills in the real value by hand.
	dyn := adminDynamic(t)
	_, err := dyn.Resource(gvrConfigMap).Namespace(ns).Patch(ctx, "once", types.MergePatchType,
		[]byte(`{"data":{"password":"set-by-hand"}}`), metav1.PatchOptions{FieldManager: "kubectl-edit"})
	if err != nil {
		t.Fatal(err)
	}
	// The repository changes the if-not-present object and drops the kept one.
	e.put("once.yaml", configMapYAML(ns, "once", map[string]string{"password": "changed-in-git"}, AnnotationApply, ApplyIfNotPresent))
	e.remove("keep.yaml")
	e.in.Commit = "0000000000000000000000000000000000000002"
	res := e.mustConverge(ctx)

	once := get(t, gvrConfigMap, ns, "once")
	if v, _, _ := unstructured.NestedString(once.Object, "data", "password"); v != "set-by-hand" {
		t.Fatalf("if-not-present object was updated: password = %q", v)
	}
	for _, w := range res.Writes {
		if w.Ref.Name == "once" && w.Outcome == WriteApplied {
			t.Fatalf("if-not-present object written: %+v", w)
		}
	}
	if get(t, gvrConfigMap, ns, "keep") == nil {
		t.Fatal("object with tugboat.dev/prune: disabled was pruned")
	}
}

// TestDangerousPruneRefused: removing a Namespace from the repository is
// refused — with nothing at all written — unless allowed explicitly.
func TestDangerousPruneRefused(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	// Unique names: the namespace deleted at the end is still terminating
	// when the test runs again (-count).
	a, b := uniqueName("danger-a"), uniqueName("danger-b")
	e := newTestEnv(t, "acme/"+a, "staging", cluster.RESTConfig())
	e.put("ns.yaml", namespaceYAML(a), namespaceYAML(b))
	e.put("cm.yaml", configMapYAML(a, "cfg", map[string]string{"v": "1"}))
	e.mustConverge(ctx)

	e.put("ns.yaml", namespaceYAML(a))
	e.put("cm.yaml", configMapYAML(a, "cfg", map[string]string{"v": "2"}))
	before := get(t, gvrConfigMap, a, "cfg").GetResourceVersion()
	parentBefore := get(t, gvrSecret, kube.SystemNamespace, e.set().ParentName()).GetResourceVersion()
	_, err := e.apply(ctx, Options{})
	var de *DangerousError
	if !errors.As(err, &de) {
		t.Fatalf("apply error = %v, want a DangerousError", err)
	}
	called := false
	_, err = e.apply(ctx, Options{BeforeWrite: func(context.Context, *planner.Plan) { called = true }})
	if called {
		t.Fatal("BeforeWrite called for a refused apply")
	}
	if !errors.As(err, &de) {
		t.Fatalf("apply error = %v, want a DangerousError", err)
	}
	if !strings.Contains(err.Error(), "Namespace/"+b) || !strings.Contains(err.Error(), "allow-dangerous") {
		t.Fatalf("error does not name the namespace and the option: %v", err)
	}
	if get(t, gvrNamespace, "", b) == nil {
		t.Fatal("namespace deleted although refused")
	}
	if got := get(t, gvrConfigMap, a, "cfg").GetResourceVersion(); got != before {
		t.Fatal("refused apply still updated the configmap")
	}
	if got := get(t, gvrSecret, kube.SystemNamespace, e.set().ParentName()).GetResourceVersion(); got != parentBefore {
		t.Fatal("refused apply still wrote the ApplySet parent")
	}

	// KeepDangerous applies the rest and leaves the namespace; BeforeWrite
	// sees the plan just before the first write.
	var sawPlan *planner.Plan
	res, err := e.apply(ctx, Options{KeepDangerous: true, BeforeWrite: func(_ context.Context, p *planner.Plan) { sawPlan = p }})
	if err != nil {
		t.Fatalf("apply with KeepDangerous: %v\n%s", err, reportString(res))
	}
	if len(res.Kept) != 1 || res.Kept[0].Ref.Name != b {
		t.Fatalf("Kept = %+v, want Namespace/%s", res.Kept, b)
	}
	if ns := get(t, gvrNamespace, "", b); ns == nil || ns.GetDeletionTimestamp() != nil {
		t.Fatalf("KeepDangerous deleted namespace %s", b)
	}
	if v, _, _ := unstructured.NestedString(get(t, gvrConfigMap, a, "cfg").Object, "data", "v"); v != "2" {
		t.Fatalf("KeepDangerous did not apply the rest: cfg v = %q", v)
	}
	if sawPlan == nil || sawPlan.Digest != res.Plan.Digest {
		t.Fatal("BeforeWrite was not called with the applied plan")
	}

	res, err = e.apply(ctx, Options{AllowDangerous: true})
	if err != nil {
		t.Fatalf("apply with AllowDangerous: %v\n%s", err, reportString(res))
	}
	ns := get(t, gvrNamespace, "", b)
	if ns != nil && ns.GetDeletionTimestamp() == nil {
		t.Fatalf("namespace %s not deleted with AllowDangerous", b)
	}
}

// TestTwoReposSameEnvName: two repositories with a "prod" environment in
// one cluster own separate sets and never prune each other's objects.
func TestTwoReposSameEnvName(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	const ns = "shared"
	a := newTestEnv(t, "acme/frontend", "prod", cluster.RESTConfig())
	b := newTestEnv(t, "acme/backend", "prod", cluster.RESTConfig())
	if a.set().ID() == b.set().ID() {
		t.Fatal("two repositories got the same ApplySet id")
	}
	a.put("ns.yaml", namespaceYAML(ns))
	a.put("a.yaml", configMapYAML(ns, "frontend", map[string]string{"x": "1"}))
	b.put("b.yaml", configMapYAML(ns, "backend", map[string]string{"y": "1"}), configMapYAML(ns, "backend-2", map[string]string{"y": "2"}))
	a.mustConverge(ctx)
	b.mustConverge(ctx)

	// frontend's next apply does not see backend's objects as its own.
	a.put("a.yaml", configMapYAML(ns, "frontend", map[string]string{"x": "2"}))
	res := a.mustConverge(ctx)
	if len(res.Prunes) != 0 {
		t.Fatalf("frontend pruned %+v", res.Prunes)
	}
	// backend drops one of its own: only that one goes.
	b.remove("b.yaml")
	b.put("b.yaml", configMapYAML(ns, "backend", map[string]string{"y": "1"}))
	res = b.mustConverge(ctx)
	if len(res.Prunes) != 1 || res.Prunes[0].Ref.Name != "backend-2" {
		t.Fatalf("backend prunes = %+v, want backend-2 only", res.Prunes)
	}
	for _, name := range []string{"frontend", "backend"} {
		if get(t, gvrConfigMap, ns, name) == nil {
			t.Fatalf("configmap %s missing", name)
		}
	}
}

// TestCRDAndCustomResource: a CRD and an instance of it in one apply.
func TestCRDAndCustomResource(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	// A group, repository and namespace of this run's own: the CRD is
	// cluster-scoped, and a rerun (-count) must create it again.
	group := uniqueName("w") + ".example.com"
	ns := uniqueName("widgets")
	e := newTestEnv(t, "acme/"+uniqueName("crd"), "staging", cluster.RESTConfig())
	e.put("crd.yaml", `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.`+group+`
spec:
  group: `+group+`
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
`)
	e.put("ns.yaml", namespaceYAML(ns))
	e.put("w.yaml", "apiVersion: "+group+"/v1\nkind: Widget\nmetadata:\n  name: gear\n  namespace: "+ns+"\nspec:\n  size: 3\n")
	res := e.mustConverge(ctx)
	var sawWidget bool
	for _, w := range res.Writes {
		if w.Ref.Kind == "Widget" && w.Outcome == WriteApplied {
			sawWidget = true
		}
	}
	if !sawWidget {
		t.Fatalf("widget not applied: %+v", res.Writes)
	}
	e.kc.Mapper.Reset()
	m, err := e.kc.RESTMapping(schemaGK(group, "Widget"), "v1")
	if err != nil {
		t.Fatal(err)
	}
	w, err := adminDynamic(t).Resource(m.Resource).Namespace(ns).Get(ctx, "gear", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("widget not in the cluster: %v", err)
	}
	if size, _, _ := unstructured.NestedInt64(w.Object, "spec", "size"); size != 3 {
		t.Fatalf("widget size = %d", size)
	}
	// And the next plan is clean.
	if p := e.plan(ctx); p.HasChanges() || len(p.Problems) > 0 {
		t.Fatalf("plan after apply: %+v", p)
	}
}

// TestDigestMismatch: a plan that changed since it was shown is not
// applied; the error carries the new plan.
func TestDigestMismatch(t *testing.T) {
	ctx := ctxFor(t, 2*time.Minute)
	e := newTestEnv(t, "acme/digest", "staging", cluster.RESTConfig())
	e.put("ns.yaml", namespaceYAML("digest"))
	e.put("cm.yaml", configMapYAML("digest", "cfg", map[string]string{"v": "1"}))
	shown := e.plan(ctx)
	// A push lands after the plan was shown.
	e.put("cm.yaml", configMapYAML("digest", "cfg", map[string]string{"v": "2"}))
	res, err := e.applier.Apply(ctx, shown.Digest, e.in, Options{})
	if !errors.Is(err, ErrPlanChanged) {
		t.Fatalf("apply error = %v, want ErrPlanChanged", err)
	}
	var pc *PlanChangedError
	if !errors.As(err, &pc) || pc.Plan == nil || pc.Plan.Digest == shown.Digest {
		t.Fatalf("error does not carry the new plan: %#v", err)
	}
	if res == nil || res.Plan.Digest != pc.Plan.Digest {
		t.Fatal("result does not carry the new plan")
	}
	if get(t, gvrNamespace, "", "digest") != nil || get(t, gvrSecret, kube.SystemNamespace, e.set().ParentName()) != nil {
		t.Fatal("something was written although the plan changed")
	}
}

// TestImmutableFieldChange: changing a Deployment's selector cannot be
// done in place: a clear error, nothing written.
func TestImmutableFieldChange(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	const ns = "immutable"
	e := newTestEnv(t, "acme/immutable", "staging", cluster.RESTConfig())
	e.put("ns.yaml", namespaceYAML(ns))
	e.put("app.yaml", deploymentYAML(ns, "web", "nginx:1.27", 1), configMapYAML(ns, "cfg", map[string]string{"v": "1"}))
	e.mustConverge(ctx)

	changed := strings.ReplaceAll(deploymentYAML(ns, "web", "nginx:1.27", 1), "{app: web}", "{app: web2}")
	e.put("app.yaml", changed, configMapYAML(ns, "cfg", map[string]string{"v": "2"}))
	before := versions(t, e, ns)
	_, err := e.apply(ctx, Options{})
	var pe *ProblemsError
	if !errors.As(err, &pe) {
		t.Fatalf("apply error = %v, want a ProblemsError", err)
	}
	if !strings.Contains(err.Error(), "Deployment/immutable/web") || !strings.Contains(err.Error(), "immutable") {
		t.Fatalf("error does not explain the immutable field: %v", err)
	}
	if after := versions(t, e, ns); !equalMaps(before, after) {
		t.Fatalf("refused apply wrote:\nbefore %v\nafter  %v", before, after)
	}
}

// TestTakeoverListed: a field another manager set is taken over and listed.
func TestTakeoverListed(t *testing.T) {
	ctx := ctxFor(t, 2*time.Minute)
	const ns = "takeover"
	e := newTestEnv(t, "acme/takeover", "staging", cluster.RESTConfig())
	e.put("ns.yaml", namespaceYAML(ns))
	e.put("cm.yaml", configMapYAML(ns, "cfg", map[string]string{"mode": "git"}))
	e.mustConverge(ctx)
	// Someone runs kubectl apply --server-side --force-conflicts by hand.
	_, err := adminDynamic(t).Resource(gvrConfigMap).Namespace(ns).Patch(ctx, "cfg", types.ApplyPatchType,
		[]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg"},"data":{"mode":"hand"}}`),
		metav1.PatchOptions{FieldManager: "kubectl", Force: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	res := e.mustConverge(ctx)
	if len(res.Takeovers) != 1 || res.Takeovers[0].Manager != "kubectl" || res.Takeovers[0].Field != ".data.mode" {
		t.Fatalf("takeovers = %+v, want .data.mode from kubectl", res.Takeovers)
	}
	cm := get(t, gvrConfigMap, ns, "cfg")
	if v, _, _ := unstructured.NestedString(cm.Object, "data", "mode"); v != "git" {
		t.Fatalf("mode = %q after apply, want git", v)
	}
}

func ptr[T any](v T) *T { return &v }

// TestProblemsRefused: a plan with a render problem writes nothing.
func TestProblemsRefused(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	e := newTestEnv(t, "acme/broken", "staging", cluster.RESTConfig())
	e.put("ns.yaml", namespaceYAML("broken"))
	e.put("bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: [oops\n")
	_, err := e.apply(ctx, Options{})
	var pe *ProblemsError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "deploy/bad.yaml") {
		t.Fatalf("apply error = %v, want a ProblemsError naming deploy/bad.yaml", err)
	}
	if get(t, gvrNamespace, "", "broken") != nil {
		t.Fatal("namespace created although the plan had problems")
	}
}

func schemaGK(group, kind string) schema.GroupKind { return schema.GroupKind{Group: group, Kind: kind} }
