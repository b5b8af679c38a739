package applier

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugboatops/tugboat/kube"
)

// manyConfigMaps puts n ConfigMaps (and their namespace) in the repository.
func manyConfigMaps(e *testEnv, ns string, n int) {
	e.put("ns.yaml", namespaceYAML(ns))
	docs := make([]string, n)
	for i := range docs {
		docs[i] = configMapYAML(ns, fmt.Sprintf("cm-%03d", i), map[string]string{"i": fmt.Sprint(i)})
	}
	e.put("cms.yaml", docs...)
}

func countConfigMaps(t *testing.T, ns, selector string) int {
	t.Helper()
	l, err := adminDynamic(t).Resource(gvrConfigMap).Namespace(ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	return len(l.Items)
}

// checkIncomplete asserts the error accounts for every write, and that
// what it calls applied is exactly what is in the cluster.
func checkIncomplete(t *testing.T, e *testEnv, err error, ns string, total int) *IncompleteError {
	t.Helper()
	var inc *IncompleteError
	if !errors.As(err, &inc) {
		t.Fatalf("apply error = %v, want an IncompleteError", err)
	}
	if len(inc.Applied) == 0 || len(inc.NotApplied) == 0 {
		t.Fatalf("interrupted apply: applied %d, not applied %d; want some of each", len(inc.Applied), len(inc.NotApplied))
	}
	if n := len(inc.Applied) + len(inc.NotApplied) + len(inc.Unknown); n != total {
		t.Fatalf("error accounts for %d writes, want %d", n, total)
	}
	if len(inc.Unknown) > 0 {
		t.Fatalf("outcome unknown for %d writes although the cluster was back: %v", len(inc.Unknown), inc.Unknown)
	}
	var cms int
	for _, r := range inc.Applied {
		if r.Kind == "ConfigMap" {
			cms++
		}
	}
	if got := countConfigMaps(t, ns, kube.LabelApplySetPartOf+"="+e.set().ID()); got != cms {
		t.Fatalf("cluster has %d configmaps, the error says %d were applied", got, cms)
	}
	for _, want := range []string{"Applied", "not applied", "Run the apply again"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	return inc
}

// TestCancelledApplyThenRerun: cancelling mid-apply says what was and
// wasn't applied, records the failure, and a re-run converges.
func TestCancelledApplyThenRerun(t *testing.T) {
	const ns, n = "cancel", 300
	e := newTestEnv(t, "acme/cancel", "staging", cluster.RESTConfig())
	manyConfigMaps(e, ns, n)
	ctx, cancel := context.WithCancel(ctxFor(t, 4*time.Minute))
	p := e.plan(ctx)
	var applied int
	var during string
	_, err := e.applier.Apply(ctx, p.Digest, e.in, Options{Progress: func(ev ProgressEvent) {
		if ev.Phase == PhaseApply && ev.Err == nil {
			if applied++; applied == 1 {
				// The record says "in progress" from before the first write.
				during = get(t, gvrSecret, kube.SystemNamespace, e.set().ParentName()).GetAnnotations()[kube.AnnotationLastOutcome]
			}
			if applied == 60 {
				cancel()
			}
		}
	}})
	if during != string(kube.OutcomeInProgress) {
		t.Fatalf("record during the apply = %q, want %q", during, kube.OutcomeInProgress)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("apply error = %v, want one wrapping context.Canceled", err)
	}
	checkIncomplete(t, e, err, ns, n+1)
	parent := get(t, gvrSecret, kube.SystemNamespace, e.set().ParentName())
	if got := parent.GetAnnotations()[kube.AnnotationLastOutcome]; got != string(kube.OutcomeFailed) {
		t.Fatalf("recorded outcome = %q, want failed", got)
	}

	ctx = ctxFor(t, 3*time.Minute)
	e.mustConverge(ctx)
	if got := countConfigMaps(t, ns, ""); got != n+1 { // + kube-root-ca.crt
		t.Fatalf("after re-run: %d configmaps, want %d", got, n+1)
	}
	if p := e.plan(ctx); p.HasChanges() {
		t.Fatalf("plan after re-run still has changes: %+v", p.Counts())
	}
}

// TestAPIServerRestartMidApply: the API server going away mid-apply is
// reported like any interruption, once it is back the error says exactly
// what landed, and a re-run converges.
func TestAPIServerRestartMidApply(t *testing.T) {
	const ns, n = "restart", 300
	e := newTestEnv(t, "acme/restart", "staging", cluster.RESTConfig())
	manyConfigMaps(e, ns, n)
	ctx := ctxFor(t, 6*time.Minute)
	p := e.plan(ctx)
	var (
		applied    int
		restarted  sync.WaitGroup
		restartErr error
	)
	_, err := e.applier.Apply(ctx, p.Digest, e.in, Options{Progress: func(ev ProgressEvent) {
		if ev.Phase != PhaseApply || ev.Err != nil {
			return
		}
		if applied++; applied == 60 {
			if err := cluster.Stop(); err != nil {
				t.Errorf("stop apiserver: %v", err)
			}
			restarted.Add(1)
			go func() {
				defer restarted.Done()
				time.Sleep(2 * time.Second)
				restartErr = cluster.Restart(ctx)
			}()
		}
	}})
	restarted.Wait()
	if restartErr != nil {
		t.Fatalf("restart apiserver: %v", restartErr)
	}
	if applied < 60 {
		t.Fatalf("only %d objects applied before the restart point", applied)
	}
	checkIncomplete(t, e, err, ns, n+1)

	e.mustConverge(ctx)
	if got := countConfigMaps(t, ns, kube.LabelApplySetPartOf+"="+e.set().ID()); got != n {
		t.Fatalf("after re-run: %d member configmaps, want %d", got, n)
	}
	if p := e.plan(ctx); p.HasChanges() {
		t.Fatalf("plan after re-run still has changes: %+v", p.Counts())
	}
}
