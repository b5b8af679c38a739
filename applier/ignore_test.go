package applier

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/planner"
)

// TestIgnoredFieldsNotSentOnCreate: a new Deployment with replicas: 500
// under an ignore rule for /spec/replicas (an HPA's field) is created
// without them. The plan says the field was left out, the object handed to
// the apply has no replicas, and the cluster never sees 500 — what is
// shown and digested is what is sent (DESIGN.md decisions 1 and 7).
func TestIgnoredFieldsNotSentOnCreate(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	ns := uniqueName("ignore-create")
	e := newTestEnv(t, "acme/"+ns, "staging", cluster.RESTConfig())
	applyAsAdmin(t, e, namespaceYAML(ns))
	e.in.Env.Ignore = []config.IgnoreRule{{Kind: "Deployment", Name: "web", Paths: []string{"/spec/replicas"}}}
	dep := strings.Replace(deploymentYAML(ns, "web", "nginx:1.27", 500), "  namespace: "+ns+"\n",
		"  namespace: "+ns+"\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{\"spec\":{\"replicas\":500}}'\n", 1)
	e.put("app.yaml", dep)

	ap, err := e.planner.PlanForApply(ctx, e.in)
	if err != nil {
		t.Fatal(err)
	}
	plan, objs := ap.Plan, ap.Objects
	ref := planner.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: ns, Name: "web"}
	var ch *planner.Change
	for i := range plan.Changes {
		if plan.Changes[i].Ref == ref {
			ch = &plan.Changes[i]
		}
	}
	if ch == nil || ch.Action != planner.ActionCreate {
		t.Fatalf("want a create of %s, got %+v (problems %v)", ref, plan.Changes, plan.Problems)
	}
	if !strings.Contains(ch.Diff, "left out by ignore rules: /spec/replicas") || strings.Contains(ch.Diff, "500") {
		t.Errorf("the plan must say replicas were left out, and not show them:\n%s", ch.Diff)
	}
	sent := objs[ref]
	if sent == nil {
		t.Fatalf("no object to send for %s", ref)
	}
	if r, found, _ := unstructured.NestedFieldNoCopy(sent.Object, "spec", "replicas"); found {
		t.Errorf("the dry-run sent replicas %v on create", r)
	}
	if _, ok := sent.GetAnnotations()["kubectl.kubernetes.io/last-applied-configuration"]; ok {
		t.Error("the manifest's last-applied annotation is sent, though never shown")
	}

	e.mustConverge(ctx)
	live := get(t, gvrDeployment, ns, "web")
	if r, _, _ := unstructured.NestedInt64(live.Object, "spec", "replicas"); r != 1 {
		t.Errorf("live replicas = %d, want the API server's default 1 (the manifest's 500 is ignored)", r)
	}
	if _, ok := live.GetAnnotations()["kubectl.kubernetes.io/last-applied-configuration"]; ok {
		t.Error("the live Deployment carries the manifest's last-applied annotation")
	}
	if p := e.plan(ctx); p.HasChanges() {
		t.Errorf("the plan after the apply is not empty: %+v", p.Changes)
	}
}
