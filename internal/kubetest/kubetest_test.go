package kubetest_test

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tugboatops/tugboat/internal/kubetest"
)

var cluster *kubetest.Cluster

func TestMain(m *testing.M) { kubetest.Main(m, &cluster, kubetest.WithUsers("alice")) }

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func namespace(t *testing.T, cs kubernetes.Interface, name string) {
	t.Helper()
	_, err := cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

func deployment(ns, name, image string, replicas int32) *appsv1ac.DeploymentApplyConfiguration {
	labels := map[string]string{"app": name}
	return appsv1ac.Deployment(name, ns).WithSpec(appsv1ac.DeploymentSpec().
		WithReplicas(replicas).
		WithSelector(metav1ac.LabelSelector().WithMatchLabels(labels)).
		WithTemplate(corev1ac.PodTemplateSpec().WithLabels(labels).WithSpec(corev1ac.PodSpec().
			WithContainers(corev1ac.Container().WithName("app").WithImage(image)))))
}

func available(d *appsv1.Deployment) bool {
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue {
			return d.Status.AvailableReplicas == *d.Spec.Replicas && d.Status.ObservedGeneration == d.Generation
		}
	}
	return false
}

func TestDeploymentBecomesAvailable(t *testing.T) {
	cs := cluster.Client()
	ctx := ctxFor(t, time.Minute)
	namespace(t, cs, "rollout")
	start := time.Now()
	if _, err := cs.AppsV1().Deployments("rollout").Apply(ctx, deployment("rollout", "web", "nginx:1.27", 2), metav1.ApplyOptions{FieldManager: "test", Force: true}); err != nil {
		t.Fatal(err)
	}
	for {
		d, err := cs.AppsV1().Deployments("rollout").Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if available(d) {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("deployment not Available after 30s: %+v", d.Status)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("2-replica Deployment Available after %s", time.Since(start).Round(100*time.Millisecond))
	pods, err := cs.CoreV1().Pods("rollout").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 2 {
		t.Fatalf("want 2 pods, got %d", len(pods.Items))
	}
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodRunning || p.Spec.NodeName == "" {
			t.Errorf("pod %s: phase %s node %q, want Running on a node", p.Name, p.Status.Phase, p.Spec.NodeName)
		}
	}
}

func TestCrashloopImageNeverBecomesAvailable(t *testing.T) {
	cs := cluster.Client()
	ctx := ctxFor(t, time.Minute)
	namespace(t, cs, "crash")
	if _, err := cs.AppsV1().Deployments("crash").Apply(ctx, deployment("crash", "bad", "example/app:crashloop", 1), metav1.ApplyOptions{FieldManager: "test", Force: true}); err != nil {
		t.Fatal(err)
	}
	// Wait for a pod whose container reports CrashLoopBackOff, then for its
	// restart count to rise, as a kubelet's would.
	var firstRestarts int32 = -1
	deadline := time.Now().Add(40 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("no crash-looping pod with rising restarts within 40s (first restart count %d)", firstRestarts)
		}
		time.Sleep(500 * time.Millisecond)
		pods, err := cs.CoreV1().Pods("crash").List(ctx, metav1.ListOptions{LabelSelector: "app=bad"})
		if err != nil {
			t.Fatal(err)
		}
		if len(pods.Items) != 1 || len(pods.Items[0].Status.ContainerStatuses) != 1 {
			continue
		}
		p := pods.Items[0]
		st := p.Status.ContainerStatuses[0]
		if st.State.Waiting == nil || st.State.Waiting.Reason != "CrashLoopBackOff" {
			continue
		}
		if st.Ready {
			t.Fatalf("crash-looping container reports ready")
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				t.Fatalf("crash-looping pod is Ready")
			}
		}
		if firstRestarts < 0 {
			firstRestarts = st.RestartCount
			continue
		}
		if st.RestartCount > firstRestarts {
			break
		}
	}
	d, err := cs.AppsV1().Deployments("crash").Get(ctx, "bad", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if available(d) || d.Status.AvailableReplicas != 0 {
		t.Fatalf("crash-looping deployment reports available: %+v", d.Status)
	}
}

func TestJobCompletesAndStatefulSetBecomesReady(t *testing.T) {
	cs := cluster.Client()
	ctx := ctxFor(t, time.Minute)
	namespace(t, cs, "batch")
	labels := map[string]string{"app": "db"}
	tmpl := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox:1.36"}}},
	}
	replicas := int32(2)
	if _, err := cs.AppsV1().StatefulSets("batch").Create(ctx, &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec: appsv1.StatefulSetSpec{Replicas: &replicas, ServiceName: "db",
			Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	jobTmpl := tmpl.DeepCopy()
	jobTmpl.Labels = map[string]string{"app": "migrate"}
	jobTmpl.Spec.RestartPolicy = corev1.RestartPolicyNever
	if _, err := cs.BatchV1().Jobs("batch").Create(ctx, &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "migrate"},
		Spec:       batchv1.JobSpec{Template: *jobTmpl},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(45 * time.Second)
	for {
		sts, err := cs.AppsV1().StatefulSets("batch").Get(ctx, "db", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		job, err := cs.BatchV1().Jobs("batch").Get(ctx, "migrate", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		complete := false
		for _, c := range job.Status.Conditions {
			if c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue {
				complete = true
			}
		}
		if sts.Status.ReadyReplicas == 2 && complete {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("statefulset ready %d/2, job complete %v after 45s", sts.Status.ReadyReplicas, complete)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func TestClustersAreIndependent(t *testing.T) {
	other := kubetest.Start(t, kubetest.WithName("other"))
	if other.Host() == cluster.Host() {
		t.Fatalf("both clusters on %s", other.Host())
	}
	ctx := ctxFor(t, time.Minute)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "only-in-other", Namespace: "default"}, Data: map[string]string{"k": "v"}}
	if _, err := other.Client().CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.Client().CoreV1().ConfigMaps("default").Get(ctx, "only-in-other", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("object created in one cluster is visible in the other: err=%v", err)
	}
	if _, err := other.Client().CoreV1().ConfigMaps("default").Get(ctx, "only-in-other", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestRestartKeepsObjects(t *testing.T) {
	cs := cluster.Client()
	ctx := ctxFor(t, 3*time.Minute)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "survivor", Namespace: "default"}, Data: map[string]string{"k": "v"}}
	if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	_, err := cs.CoreV1().ConfigMaps("default").Get(short, "survivor", metav1.GetOptions{})
	cancel()
	if err == nil {
		t.Fatal("apiserver still answers after Stop")
	}
	start := time.Now()
	if err := cluster.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("apiserver restarted in %s", time.Since(start).Round(100*time.Millisecond))
	got, err := cs.CoreV1().ConfigMaps("default").Get(ctx, "survivor", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("object lost across restart: %v", err)
	}
	if got.Data["k"] != "v" {
		t.Fatalf("object changed across restart: %v", got.Data)
	}
}

func TestRBACDeniesUnprivilegedUser(t *testing.T) {
	admin := cluster.Client()
	ctx := ctxFor(t, time.Minute)
	alice := kubernetes.NewForConfigOrDie(cluster.UserRESTConfig("alice"))
	namespace(t, admin, "team-a")

	if _, err := alice.CoreV1().ConfigMaps("team-a").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("alice without bindings: want Forbidden, got %v", err)
	}
	// Grant ConfigMaps in team-a only.
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "team-a"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list", "create"}}}}
	if _, err := admin.RbacV1().Roles("team-a").Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "alice-cm", Namespace: "team-a"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "cm"},
		Subjects: []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: "alice"}}}
	if _, err := admin.RbacV1().RoleBindings("team-a").Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// RBAC bindings take effect through an informer: allow a moment.
	var err error
	for i := 0; i < 50; i++ {
		if _, err = alice.CoreV1().ConfigMaps("team-a").List(ctx, metav1.ListOptions{}); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("alice with a Role for configmaps: %v", err)
	}
	if _, err := alice.CoreV1().Secrets("team-a").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("alice listing secrets: want Forbidden, got %v", err)
	}
	if _, err := alice.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("alice listing configmaps outside team-a: want Forbidden, got %v", err)
	}
}
