package applier

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/planner"
)

// TestWaitEndsWhenLastObjectIsReady: the waiter watches what it waits for,
// so it returns right after the last Deployment becomes ready — not at its
// next poll. The poll interval here is a minute; the Deployments can only
// become ready after the first round (their pods are unschedulable until
// the test lifts the node selector), so only a watch can end the wait
// before the second poll.
func TestWaitEndsWhenLastObjectIsReady(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	ns := uniqueName("watch")
	label := "tugboat-test/wait=" + ns
	dyn := adminDynamic(t)
	if _, err := dyn.Resource(gvrNamespace).Create(ctx, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// More Deployments than listThreshold: the polls LIST them by label,
	// as an apply's wait does.
	const n = listThreshold + 1
	refs := []planner.ObjectRef{}
	for i := range n {
		name := fmt.Sprintf("web-%d", i)
		doc := strings.Replace(deploymentYAML(ns, name, "nginx:1.27", 1), "      containers:", "      nodeSelector: {disk: nvme}\n      containers:", 1)
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{Object: obj}
		u.SetLabels(map[string]string{"tugboat-test/wait": ns})
		if _, err := dyn.Resource(gvrDeployment).Namespace(ns).Create(ctx, u, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		refs = append(refs, planner.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: ns, Name: name})
	}

	// When did the last Deployment become ready, as a watcher of our own
	// sees it?
	readyAt := make(chan time.Time, 1)
	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	wi, err := dyn.Resource(gvrDeployment).Namespace(ns).Watch(wctx, metav1.ListOptions{LabelSelector: label})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer wi.Stop()
		current := map[string]bool{}
		for ev := range wi.ResultChan() {
			o, ok := ev.Object.(*unstructured.Unstructured)
			if !ok {
				continue
			}
			if res, err := status.Compute(o); err == nil {
				current[o.GetName()] = res.Status == status.CurrentStatus
			}
			all := len(current) == n
			for _, c := range current {
				all = all && c
			}
			if all {
				readyAt <- time.Now()
				return
			}
		}
	}()

	reg := kube.NewRegistry(nil)
	if err := reg.AddConfig("test", cluster.RESTConfig()); err != nil {
		t.Fatal(err)
	}
	kc, _ := reg.Cluster("test")
	w, err := NewWaiter(kc)
	if err != nil {
		t.Fatal(err)
	}
	const interval = time.Minute
	type outcome struct {
		res *WaitResult
		err error
		at  time.Time
	}
	got := make(chan outcome, 1)
	start := time.Now()
	go func() {
		res, err := w.Wait(ctx, refs, WaitOptions{Timeout: 2 * time.Minute, Interval: interval, Selector: label})
		got <- outcome{res, err, time.Now()}
	}()

	// Past the first round (its read is immediate), make them schedulable.
	time.Sleep(2 * time.Second)
	for _, r := range refs {
		if _, err := dyn.Resource(gvrDeployment).Namespace(ns).Patch(ctx, r.Name, types.MergePatchType,
			[]byte(`{"spec":{"template":{"spec":{"nodeSelector":null}}}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	var out outcome
	select {
	case out = <-got:
	case <-ctx.Done():
		t.Fatal("the wait did not return")
	}
	if out.err != nil || !out.res.Converged {
		t.Fatalf("wait: %v, converged=%v: %+v", out.err, out.res != nil && out.res.Converged, out.res)
	}
	var ready time.Time
	select {
	case ready = <-readyAt:
	case <-time.After(10 * time.Second):
		t.Fatal("the test's own watch never saw every Deployment ready, yet the wait converged")
	}
	lag := out.at.Sub(ready)
	t.Logf("wait returned %v after the last Deployment became ready (%v after it started; poll interval %v)", lag.Round(time.Millisecond), out.at.Sub(start).Round(time.Millisecond), interval)
	if out.at.Sub(start) >= interval {
		t.Fatalf("the wait returned only after %v, at a poll: it does not watch", out.at.Sub(start))
	}
	if lag > 2*time.Second {
		t.Fatalf("the wait returned %v after the last Deployment became ready", lag)
	}
}
