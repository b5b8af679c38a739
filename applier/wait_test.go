package applier

import (
	"strings"
	"testing"
	"time"
)

// TestCrashLoopFailsFast: a Deployment whose pods crashloop is reported
// Failed long before its 600 s progress deadline, with the reason, the
// restarts and Events in the result, and the missing logs explained.
func TestCrashLoopFailsFast(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	const ns = "crash"
	e := newTestEnv(t, "acme/crash", "staging", cluster.RESTConfig())
	e.in.Env.Wait = 2 * time.Minute
	e.put("ns.yaml", namespaceYAML(ns))
	e.put("app.yaml", deploymentYAML(ns, "api", "registry.example/api:crashloop", 2), configMapYAML(ns, "api", map[string]string{"a": "b"}))
	start := time.Now()
	res, err := e.apply(ctx, Options{})
	took := time.Since(start)
	if err == nil || res.Converged() {
		t.Fatalf("apply of a crashlooping deployment converged: %v", err)
	}
	if took > 90*time.Second {
		t.Fatalf("failure took %s; it should not wait for the progress deadline", took)
	}
	if !strings.Contains(err.Error(), "CrashLoopBackOff") {
		t.Fatalf("error does not say CrashLoopBackOff: %v", err)
	}
	failed := res.Wait.Failed()
	if len(failed) != 1 || failed[0].Ref.Name != "api" || failed[0].Ref.Kind != "Deployment" {
		t.Fatalf("failed objects = %+v, want Deployment api", failed)
	}
	d := failed[0].Diagnosis
	if d == nil || len(d.Pods) == 0 {
		t.Fatalf("no diagnosis of the failed deployment: %+v", failed[0])
	}
	var crash bool
	for _, p := range d.Pods {
		if !strings.HasPrefix(p.Name, "api-") {
			t.Errorf("diagnosed pod %s is not the deployment's", p.Name)
		}
		for _, c := range p.Containers {
			if c.Reason == "CrashLoopBackOff" && c.Restarts > 0 {
				crash = true
			}
			// kwok has no kubelet to serve logs: said so, not failed on.
			if len(c.Logs) == 0 && c.LogsError == "" && c.Restarts > 0 {
				t.Errorf("container %s/%s: neither logs nor why there are none", p.Name, c.Name)
			}
		}
	}
	if !crash {
		t.Fatalf("no container in CrashLoopBackOff with restarts in %+v", d.Pods)
	}
	if len(d.Events) == 0 {
		t.Error("no events in the diagnosis")
	}
	report := reportString(res)
	for _, want := range []string{"✗ Deployment/crash/api", "CrashLoopBackOff", "restarts=", "result: NOT converged"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	parent := get(t, gvrSecret, "tugboat-system", e.set().ParentName())
	if got := parent.GetAnnotations()["tugboat.dev/last-apply-outcome"]; got != "failed" {
		t.Fatalf("recorded outcome = %q, want failed", got)
	}
}

// TestWaitTimeoutNamesPods: when the wait ends first, unconverged objects
// are InProgress and their pods' state says why (here: unschedulable).
func TestWaitTimeoutNamesPods(t *testing.T) {
	ctx := ctxFor(t, 2*time.Minute)
	const ns = "stuck"
	e := newTestEnv(t, "acme/stuck", "staging", cluster.RESTConfig())
	e.in.Env.Wait = 8 * time.Second
	e.put("ns.yaml", namespaceYAML(ns))
	stuck := strings.Replace(deploymentYAML(ns, "db", "postgres:17", 1), "      containers:", "      nodeSelector: {disk: nvme}\n      containers:", 1)
	e.put("app.yaml", stuck)
	res, err := e.apply(ctx, Options{})
	if err == nil || res.Converged() {
		t.Fatal("apply converged although no node can run the pod")
	}
	if !res.Wait.TimedOut {
		t.Fatalf("wait did not time out: %+v", res.Wait)
	}
	pending := res.Wait.Pending()
	if len(pending) != 1 || pending[0].Ref.Name != "db" || pending[0].Status != StatusInProgress {
		t.Fatalf("pending = %+v, want Deployment db InProgress", pending)
	}
	d := pending[0].Diagnosis
	if d == nil || len(d.Pods) != 1 || !strings.Contains(d.Pods[0].Message, "Unschedulable") {
		t.Fatalf("diagnosis does not show the unschedulable pod: %+v", d)
	}
	if !strings.Contains(err.Error(), "Deployment/stuck/db") {
		t.Fatalf("error does not name the deployment: %v", err)
	}
}
