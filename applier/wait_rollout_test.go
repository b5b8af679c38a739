package applier

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// podsOf lists the pods of namespace ns carrying app=name, as admin.
func podsOf(t *testing.T, ns, name string) []corev1.Pod {
	t.Helper()
	pods, err := cluster.Client().CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + name})
	if err != nil {
		t.Fatalf("list pods of %s/%s: %v", ns, name, err)
	}
	return pods.Items
}

// replicaSetsOf maps the ReplicaSets of Deployment ns/name by their
// container image.
func replicaSetsOf(t *testing.T, ns, name string) map[string]appsv1.ReplicaSet {
	t.Helper()
	rss, err := cluster.Client().AppsV1().ReplicaSets(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + name})
	if err != nil {
		t.Fatalf("list replicasets of %s/%s: %v", ns, name, err)
	}
	out := map[string]appsv1.ReplicaSet{}
	for _, rs := range rss.Items {
		out[rs.Spec.Template.Spec.Containers[0].Image] = rs
	}
	return out
}

func podNames(pods []corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	sort.Strings(out)
	return out
}

// live drops pods being deleted: a rollout is judged on the pods that stay.
func live(pods []corev1.Pod) []corev1.Pod {
	var out []corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

// eventually polls cond every 200 ms until it holds or d has passed.
func eventually(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", d, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestRollingUpdateFollowsNewPods: changing an existing Deployment's image
// rolls it — a new ReplicaSet, the old pods deleted (kwok's delete stage
// finalizes them as a kubelet would) — and the apply returns converged only
// once every replica runs the new image: the waiter follows the new pods,
// not the Deployment as it was when the apply wrote it.
func TestRollingUpdateFollowsNewPods(t *testing.T) {
	ctx := ctxFor(t, 4*time.Minute)
	ns := uniqueName("rollout")
	e := newTestEnv(t, "acme/"+ns, "staging", cluster.RESTConfig())
	e.put("ns.yaml", namespaceYAML(ns))
	e.put("app.yaml", deploymentYAML(ns, "web", "nginx:1.27", 3))
	e.mustConverge(ctx)
	oldPods := podNames(live(podsOf(t, ns, "web")))
	if len(oldPods) != 3 {
		t.Fatalf("first apply left pods %v, want 3", oldPods)
	}

	e.put("app.yaml", deploymentYAML(ns, "web", "nginx:1.28", 3))
	e.in.Commit = "0000000000000000000000000000000000000002"
	var seen []string
	res, err := e.apply(ctx, Options{Progress: func(ev ProgressEvent) {
		if ev.Phase == PhaseWait && ev.Ref.Name == "web" {
			seen = append(seen, ev.Outcome)
		}
	}})
	if err != nil || !res.Converged() {
		t.Fatalf("rolling update did not converge: %v\n%s", err, reportString(res))
	}
	// At the moment the apply says converged, the rollout is complete.
	dep, err := cluster.Client().AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st := dep.Status
	if st.ObservedGeneration != dep.Generation || st.UpdatedReplicas != 3 || st.AvailableReplicas != 3 || st.Replicas != 3 {
		t.Fatalf("apply returned converged mid-rollout: generation %d, status %+v", dep.Generation, st)
	}
	rss := replicaSetsOf(t, ns, "web")
	newRS, oldRS := rss["nginx:1.28"], rss["nginx:1.27"]
	if newRS.Name == "" || oldRS.Name == "" || newRS.Name == oldRS.Name {
		t.Fatalf("want an old and a new ReplicaSet, got %v", rss)
	}
	if oldRS.Spec.Replicas == nil || *oldRS.Spec.Replicas != 0 {
		t.Fatalf("old ReplicaSet %s still wants %v replicas", oldRS.Name, oldRS.Spec.Replicas)
	}
	now := live(podsOf(t, ns, "web"))
	if len(now) != 3 {
		t.Fatalf("after the rollout %d pods remain (%v), want 3", len(now), podNames(now))
	}
	for _, p := range now {
		if p.Spec.Containers[0].Image != "nginx:1.28" || !strings.HasPrefix(p.Name, newRS.Name+"-") {
			t.Errorf("pod %s runs %s, want the new ReplicaSet %s with nginx:1.28", p.Name, p.Spec.Containers[0].Image, newRS.Name)
		}
		if !podReady(&p) {
			t.Errorf("pod %s is not Ready although the apply converged", p.Name)
		}
	}
	// The old pods are gone from the API, not merely marked for deletion.
	eventually(t, "old pods still exist", 15*time.Second, func() bool {
		names := map[string]bool{}
		for _, p := range podsOf(t, ns, "web") {
			names[p.Name] = true
		}
		for _, n := range oldPods {
			if names[n] {
				return false
			}
		}
		return true
	})
	if len(seen) == 0 || seen[len(seen)-1] != string(StatusCurrent) {
		t.Fatalf("wait progress for web = %v, want it to end Current", seen)
	}
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// TestRollingUpdateToCrashingImageFailsOnNewPods: a rollout to an image
// that crashloops is reported failed from the new ReplicaSet's pods, fast,
// while the old pods go on serving (the rolling update's surge never takes
// them down).
func TestRollingUpdateToCrashingImageFailsOnNewPods(t *testing.T) {
	ctx := ctxFor(t, 4*time.Minute)
	ns := uniqueName("badroll")
	e := newTestEnv(t, "acme/"+ns, "staging", cluster.RESTConfig())
	e.in.Env.Wait = 2 * time.Minute
	e.put("ns.yaml", namespaceYAML(ns))
	e.put("app.yaml", deploymentYAML(ns, "api", "registry.example/api:v1", 2))
	e.mustConverge(ctx)

	e.put("app.yaml", deploymentYAML(ns, "api", "registry.example/api:crashloop", 2))
	e.in.Commit = "0000000000000000000000000000000000000002"
	start := time.Now()
	res, err := e.apply(ctx, Options{})
	if err == nil || res.Converged() {
		t.Fatalf("a rollout to a crashlooping image converged:\n%s", reportString(res))
	}
	if took := time.Since(start); took > 90*time.Second {
		t.Fatalf("failure took %s; it should not wait for the progress deadline", took)
	}
	failed := res.Wait.Failed()
	if len(failed) != 1 || failed[0].Ref.Name != "api" || !strings.Contains(failed[0].Message, "CrashLoopBackOff") {
		t.Fatalf("failed = %+v, want Deployment api in CrashLoopBackOff", failed)
	}
	newRS := replicaSetsOf(t, ns, "api")["registry.example/api:crashloop"]
	if newRS.Name == "" {
		t.Fatal("no ReplicaSet for the new image")
	}
	if !strings.Contains(failed[0].Message, newRS.Name+"-") {
		t.Fatalf("failure %q does not name a pod of the new ReplicaSet %s", failed[0].Message, newRS.Name)
	}
	d := failed[0].Diagnosis
	if d == nil || len(d.Pods) == 0 {
		t.Fatalf("no diagnosis: %+v", failed[0])
	}
	for _, p := range d.Pods {
		if !strings.HasPrefix(p.Name, newRS.Name+"-") {
			t.Errorf("diagnosis shows pod %s, not one of the new ReplicaSet %s", p.Name, newRS.Name)
		}
	}
	// The old replicas still serve: maxUnavailable (25% of 2) is 0.
	var oldReady int
	for _, p := range live(podsOf(t, ns, "api")) {
		if p.Spec.Containers[0].Image == "registry.example/api:v1" && podReady(&p) {
			oldReady++
		}
	}
	if oldReady != 2 {
		t.Fatalf("%d old pods ready during the failed rollout, want 2", oldReady)
	}
}

// TestRollingUpdateFixesCrashloop: the usual way out of a crashloop is a
// new image; the old crashing pods, still there while the rollout runs,
// must not fail the apply that replaces them.
func TestRollingUpdateFixesCrashloop(t *testing.T) {
	ctx := ctxFor(t, 4*time.Minute)
	ns := uniqueName("fixroll")
	e := newTestEnv(t, "acme/"+ns, "staging", cluster.RESTConfig())
	e.in.Env.Wait = 2 * time.Minute
	e.put("ns.yaml", namespaceYAML(ns))
	e.put("app.yaml", deploymentYAML(ns, "api", "registry.example/api:crashloop", 2))
	if res, err := e.apply(ctx, Options{}); err == nil || res.Converged() {
		t.Fatalf("the crashlooping first version converged:\n%s", reportString(res))
	}

	e.put("app.yaml", deploymentYAML(ns, "api", "registry.example/api:v2", 2))
	e.in.Commit = "0000000000000000000000000000000000000002"
	res := e.mustConverge(ctx)
	if got := res.Wait.Objects; len(got) == 0 {
		t.Fatal("nothing waited for")
	}
	for _, p := range live(podsOf(t, ns, "api")) {
		if p.Spec.Containers[0].Image != "registry.example/api:v2" {
			t.Errorf("pod %s still runs %s after the fix converged", p.Name, p.Spec.Containers[0].Image)
		}
	}
}

// statefulSetYAML is a StatefulSet of replicas pods without volumes.
func statefulSetYAML(ns, name, image string, replicas int) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: %[2]s
  namespace: %[1]s
spec:
  serviceName: %[2]s
  replicas: %[4]d
  selector:
    matchLabels: {app: %[2]s}
  template:
    metadata:
      labels: {app: %[2]s}
    spec:
      containers:
      - name: app
        image: %[3]s
`, ns, name, image, replicas)
}

// TestStatefulSetRollingUpdateWaits: an image change of a StatefulSet
// replaces its pods one by one, highest ordinal first; the apply converges
// only when every pod runs the update revision.
func TestStatefulSetRollingUpdateWaits(t *testing.T) {
	ctx := ctxFor(t, 4*time.Minute)
	ns := uniqueName("stsroll")
	e := newTestEnv(t, "acme/"+ns, "staging", cluster.RESTConfig())
	e.put("ns.yaml", namespaceYAML(ns))
	e.put("db.yaml", statefulSetYAML(ns, "db", "postgres:16", 3))
	e.mustConverge(ctx)
	before := map[string]string{}
	for _, p := range live(podsOf(t, ns, "db")) {
		before[p.Name] = string(p.UID)
	}
	if len(before) != 3 {
		t.Fatalf("first apply left pods %v, want db-0..2", before)
	}

	e.put("db.yaml", statefulSetYAML(ns, "db", "postgres:17", 3))
	e.in.Commit = "0000000000000000000000000000000000000002"
	e.mustConverge(ctx)
	sts, err := cluster.Client().AppsV1().StatefulSets(ns).Get(ctx, "db", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st := sts.Status
	if st.ObservedGeneration != sts.Generation || st.UpdatedReplicas != 3 || st.ReadyReplicas != 3 || st.CurrentRevision != st.UpdateRevision {
		t.Fatalf("apply returned converged mid-rollout: generation %d, status %+v", sts.Generation, st)
	}
	pods := live(podsOf(t, ns, "db"))
	if len(pods) != 3 {
		t.Fatalf("pods after the rollout: %v, want 3", podNames(pods))
	}
	for _, p := range pods {
		if p.Spec.Containers[0].Image != "postgres:17" || p.Labels[appsv1.ControllerRevisionHashLabelKey] != st.UpdateRevision || !podReady(&p) {
			t.Errorf("pod %s: image %s revision %s ready %v, want postgres:17 at %s, ready",
				p.Name, p.Spec.Containers[0].Image, p.Labels[appsv1.ControllerRevisionHashLabelKey], podReady(&p), st.UpdateRevision)
		}
		if before[p.Name] == string(p.UID) {
			t.Errorf("pod %s was not replaced", p.Name)
		}
	}
}

// TestStatefulSetUpdateToCrashingImageFails: a StatefulSet rollout that
// crashloops fails fast on the pod of the update revision.
func TestStatefulSetUpdateToCrashingImageFails(t *testing.T) {
	ctx := ctxFor(t, 4*time.Minute)
	ns := uniqueName("stsbad")
	e := newTestEnv(t, "acme/"+ns, "staging", cluster.RESTConfig())
	e.in.Env.Wait = 2 * time.Minute
	e.put("ns.yaml", namespaceYAML(ns))
	e.put("db.yaml", statefulSetYAML(ns, "db", "registry.example/db:v1", 2))
	e.mustConverge(ctx)

	e.put("db.yaml", statefulSetYAML(ns, "db", "registry.example/db:crashloop", 2))
	e.in.Commit = "0000000000000000000000000000000000000002"
	start := time.Now()
	res, err := e.apply(ctx, Options{})
	if err == nil || res.Converged() {
		t.Fatalf("a StatefulSet rollout to a crashlooping image converged:\n%s", reportString(res))
	}
	if took := time.Since(start); took > 90*time.Second {
		t.Fatalf("failure took %s", took)
	}
	failed := res.Wait.Failed()
	// Ordered rollout: the highest ordinal is replaced first.
	if len(failed) != 1 || failed[0].Ref.Kind != "StatefulSet" || !strings.Contains(failed[0].Message, "pod db-1: container app: CrashLoopBackOff") {
		t.Fatalf("failed = %+v, want StatefulSet db failing on pod db-1", failed)
	}
}
