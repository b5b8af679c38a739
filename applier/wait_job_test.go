package applier

import (
	"fmt"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// jobYAML is a Job of completions pods run one after another; extra is
// added to its pod spec (indented for it).
func jobYAML(ns, name string, completions int, podSpecExtra string, jobSpecExtra string) string {
	return fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata:
  name: %[2]s
  namespace: %[1]s
spec:
  completions: %[3]d
  parallelism: 1
  backoffLimit: 0
%[5]s  template:
    spec:
      restartPolicy: Never
%[4]s      containers:
      - name: migrate
        image: registry.example/migrate:v1
`, ns, name, completions, podSpecExtra, jobSpecExtra)
}

func jobCondition(j *batchv1.Job, typ batchv1.JobConditionType) *batchv1.JobCondition {
	for i, c := range j.Status.Conditions {
		if c.Type == typ && c.Status == corev1.ConditionTrue {
			return &j.Status.Conditions[i]
		}
	}
	return nil
}

// TestJobWaitsForCompletion: a Job (a migration, say) has converged when it
// has completed, not when it has started: the apply returns once every
// completion has succeeded.
func TestJobWaitsForCompletion(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	ns := uniqueName("job")
	e := newTestEnv(t, "acme/"+ns, "staging", cluster.RESTConfig())
	e.put("ns.yaml", namespaceYAML(ns))
	e.put("job.yaml", jobYAML(ns, "migrate", 4, "", ""))
	res := e.mustConverge(ctx)

	j, err := cluster.Client().BatchV1().Jobs(ns).Get(ctx, "migrate", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if jobCondition(j, batchv1.JobComplete) == nil || j.Status.Succeeded != 4 {
		t.Fatalf("apply converged before the job completed: succeeded %d, conditions %+v", j.Status.Succeeded, j.Status.Conditions)
	}
	for _, o := range res.Wait.Objects {
		if o.Ref.Kind == "Job" && (o.Status != StatusCurrent || !strings.Contains(o.Message, "4/4")) {
			t.Fatalf("job status = %s %q, want Current with 4/4 succeeded", o.Status, o.Message)
		}
	}
}

// TestFailingJobReportedFailed: a Job that fails (here it runs past its
// activeDeadlineSeconds, its pod never scheduled) fails the apply, named,
// with the Job controller's reason — rather than counting as converged
// because it had started.
func TestFailingJobReportedFailed(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	ns := uniqueName("jobfail")
	e := newTestEnv(t, "acme/"+ns, "staging", cluster.RESTConfig())
	e.in.Env.Wait = 2 * time.Minute
	e.put("ns.yaml", namespaceYAML(ns))
	e.put("job.yaml", jobYAML(ns, "migrate", 1,
		"      nodeSelector: {disk: nvme}\n",
		"  activeDeadlineSeconds: 4\n"))
	start := time.Now()
	res, err := e.apply(ctx, Options{})
	if err == nil || res.Converged() {
		t.Fatalf("a failing job converged:\n%s", reportString(res))
	}
	if res.Wait.TimedOut || time.Since(start) > 90*time.Second {
		t.Fatalf("the failure was noticed only by the timeout (%s)", time.Since(start))
	}
	failed := res.Wait.Failed()
	if len(failed) != 1 || failed[0].Ref.Kind != "Job" || failed[0].Ref.Name != "migrate" {
		t.Fatalf("failed = %+v, want Job migrate", failed)
	}
	if !strings.Contains(failed[0].Message, "DeadlineExceeded") {
		t.Fatalf("failure message %q does not give the reason", failed[0].Message)
	}
	if !strings.Contains(err.Error(), "Job/"+ns+"/migrate") {
		t.Fatalf("error does not name the job: %v", err)
	}
	report := reportString(res)
	for _, want := range []string{"✗ Job/" + ns + "/migrate", "DeadlineExceeded", "result: NOT converged"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
}
