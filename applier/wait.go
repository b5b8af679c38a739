package applier

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugboatops/tugboat/internal/panics"
	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/planner"
)

// WaitOptions tune a wait.
type WaitOptions struct {
	// Timeout ends the wait; the environment's `wait`. Zero means 5 minutes.
	Timeout time.Duration
	// Interval between polls, which re-read every pending object and look
	// at workloads' pods; object changes in between are seen by watching
	// (wait_watch.go). Zero means one second.
	Interval time.Duration
	// Selector is a label selector every waited-for object carries (the
	// ApplySet's part-of label). With it, many objects of one kind in one
	// namespace are read with one LIST instead of one GET each.
	Selector string
	// OnChange, when set, is called whenever an object's status changes,
	// for progress output. It is called from the waiting goroutine.
	OnChange func(ObjectStatus)
}

// Waiter waits until a set of objects has converged, judging each with
// kstatus and, for workloads, with the state of their current pods.
//
// Why not fluxcd/pkg/ssa's WaitForSetWithContext: it returns one aggregated
// error string, with no per-object status to report, and it knows nothing of
// pods, so a crashlooping Deployment would only fail after its 600 s
// progress deadline.
//
// It logs to zerolog.Ctx of the context it is given.
type Waiter struct {
	c *clients
}

// NewWaiter returns a Waiter for the cluster kc.
func NewWaiter(kc *kube.Cluster) (*Waiter, error) {
	c, err := newClients(kc)
	if err != nil {
		return nil, fmt.Errorf("waiter: %w", err)
	}
	return &Waiter{c: c}, nil
}

// tracked is one object being waited for.
type tracked struct {
	ref     planner.ObjectRef
	status  Status
	message string
	obj     *unstructured.Unstructured // last read; nil until found
	diag    *Diagnosis
	// watched: a watch has reported this object, and keeps it up to date;
	// polls no longer re-read it (only its pods).
	watched bool
}

// Wait watches and polls refs until all are Current, one has Failed, or the
// timeout ends; a watch ends it as soon as the last object is ready. The result lists every ref in the given order; workloads that
// failed or had not converged carry a Diagnosis. The error is non-nil only
// when ctx itself ended (the result then holds what was known).
func (w *Waiter) Wait(ctx context.Context, refs []planner.ObjectRef, opts WaitOptions) (*WaitResult, error) {
	start := time.Now()
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Minute
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	objs := make([]*tracked, len(refs))
	for i, r := range refs {
		objs[i] = &tracked{ref: r, status: StatusInProgress, message: "not read yet"}
	}

	waitCtx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()

	timedOut := false
	var (
		ws    *watchSet
		byKey map[watchKey]*tracked
	)
	defer func() {
		if ws != nil {
			ws.stop()
		}
	}()
	for round := 0; ; round++ {
		pending := pendingOf(objs)
		before := snapshot(pending)
		w.poll(waitCtx, unwatched(pending), opts.Selector)
		// Pods are not looked at in the very first round: right after an
		// apply the controllers have not made them yet.
		if round > 0 {
			w.checkPods(waitCtx, pending)
		}
		if opts.OnChange != nil {
			for i, t := range pending {
				if t.status != before[i] {
					opts.OnChange(t.result())
				}
			}
		}
		if done(objs) {
			break
		}
		if ws == nil {
			// What the first round left pending is watched from now on
			// (see wait_watch.go); later rounds only ever look at fewer.
			groups, _ := w.group(pendingOf(objs))
			ws, byKey = w.watch(waitCtx, groups, opts.Selector), watchKeys(groups)
		}
		if sleep(waitCtx, opts, objs, ws, byKey) {
			break
		}
		if waitCtx.Err() != nil {
			if ctx.Err() != nil {
				return w.result(objs, start, false), fmt.Errorf("wait for %d objects: %w", len(pendingOf(objs)), context.Cause(ctx))
			}
			timedOut = true
			break
		}
	}

	// The wait's own deadline has passed; diagnosing gets a short one of its
	// own so a timed-out wait still explains itself.
	dctx, dcancel := context.WithTimeout(ctx, 30*time.Second)
	defer dcancel()
	w.diagnoseAll(dctx, objs)
	return w.result(objs, start, timedOut), nil
}

// sleep waits for the next poll (opts.Interval), applying what the watches
// see meanwhile. It returns true early once objs are done (see done).
func sleep(ctx context.Context, opts WaitOptions, objs []*tracked, ws *watchSet, byKey map[watchKey]*tracked) bool {
	timer := time.NewTimer(opts.Interval)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-timer.C:
			return false
		case <-ws.notify:
			applyEvents(ws.take(), byKey, opts.OnChange)
			if done(objs) {
				return true
			}
		}
	}
}

// unwatched are the objects of ts no watch has reported (not labelled as
// the selector expects, or their watch cannot start): polls read those.
func unwatched(ts []*tracked) []*tracked {
	var out []*tracked
	for _, t := range ts {
		if !t.watched {
			out = append(out, t)
		}
	}
	return out
}

func pendingOf(objs []*tracked) []*tracked {
	var out []*tracked
	for _, t := range objs {
		if t.status != StatusCurrent {
			out = append(out, t)
		}
	}
	return out
}

func snapshot(ts []*tracked) []Status {
	out := make([]Status, len(ts))
	for i, t := range ts {
		out[i] = t.status
	}
	return out
}

// done: every object Current, or one Failed (nothing that failed will
// become Current by waiting).
func done(objs []*tracked) bool {
	all := true
	for _, t := range objs {
		switch t.status {
		case StatusFailed:
			return true
		case StatusCurrent:
		default:
			all = false
		}
	}
	return all
}

func (t *tracked) result() ObjectStatus {
	return ObjectStatus{Ref: t.ref, Status: t.status, Message: t.message}
}

func (w *Waiter) result(objs []*tracked, start time.Time, timedOut bool) *WaitResult {
	res := &WaitResult{Duration: time.Since(start), Converged: true}
	for _, t := range objs {
		os := t.result()
		os.Diagnosis = t.diag
		res.Objects = append(res.Objects, os)
		if t.status != StatusCurrent {
			res.Converged = false
		}
	}
	res.TimedOut = timedOut && len(res.Failed()) == 0
	return res
}

// groupKey groups objects read with one LIST.
type groupKey struct {
	gvr       schema.GroupVersionResource
	namespace string
}

// poll reads every pending object and computes its status. Read errors
// (an API server restarting, a CRD not served yet) leave the object
// InProgress with the error as message: the next round tries again.
func (w *Waiter) poll(ctx context.Context, pending []*tracked, selector string) {
	groups, order := w.group(pending)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, k := range order {
		ts := groups[k]
		g.Go(func() error {
			// A crash reading or judging these objects fails them (with
			// the panic's first line): the wait ends not converged rather
			// than the process ending.
			var crashed error
			defer func() {
				if crashed != nil {
					for _, t := range ts {
						t.status, t.message = StatusFailed, "tugboat failed to read its status: "+crashed.Error()
					}
				}
			}()
			defer panics.Recover(gctx, &crashed)
			w.readGroup(gctx, k, ts, selector)
			return nil
		})
	}
	_ = g.Wait()
}

// group groups pending objects by resource and namespace (in the order
// first seen). An object whose kind cannot be mapped stays InProgress with
// the error as message.
func (w *Waiter) group(pending []*tracked) (map[groupKey][]*tracked, []groupKey) {
	groups := map[groupKey][]*tracked{}
	var order []groupKey
	for _, t := range pending {
		m, err := w.c.mapping(t.ref)
		if err != nil {
			t.status, t.message = StatusInProgress, err.Error()
			continue
		}
		ns := t.ref.Namespace
		if m.Scope.Name() != meta.RESTScopeNameNamespace {
			ns = ""
		}
		k := groupKey{m.Resource, ns}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], t)
	}
	return groups, order
}

// listThreshold: below it, one GET per object is cheaper than a LIST.
const listThreshold = 5

func (w *Waiter) readGroup(ctx context.Context, k groupKey, ts []*tracked, selector string) {
	ri := w.c.dyn.Resource(k.gvr).Namespace(k.namespace)
	var missing []*tracked
	if len(ts) >= listThreshold {
		list, err := ri.List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			for _, t := range ts {
				t.status, t.message = StatusInProgress, fmt.Sprintf("read: %v", err)
			}
			return
		}
		byName := make(map[string]*unstructured.Unstructured, len(list.Items))
		for i := range list.Items {
			byName[list.Items[i].GetName()] = &list.Items[i]
		}
		for _, t := range ts {
			if o, ok := byName[t.ref.Name]; ok {
				t.set(o)
			} else {
				// Not labelled as expected (an if-not-present object made
				// by someone else): read it directly.
				missing = append(missing, t)
			}
		}
	} else {
		missing = ts
	}
	var wg sync.WaitGroup
	for _, t := range missing {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var crashed error
			defer func() {
				if crashed != nil {
					t.status, t.message = StatusFailed, "tugboat failed to read its status: "+crashed.Error()
				}
			}()
			defer panics.Recover(ctx, &crashed)
			o, err := ri.Get(ctx, t.ref.Name, metav1.GetOptions{})
			switch {
			case apierrors.IsNotFound(err):
				t.status, t.message, t.obj = StatusNotFound, "not found in the cluster", nil
			case err != nil:
				t.status, t.message = StatusInProgress, fmt.Sprintf("read: %v", err)
			default:
				t.set(o)
			}
		}()
	}
	wg.Wait()
}

// set computes t's status from a freshly read object with kstatus.
func (t *tracked) set(o *unstructured.Unstructured) {
	t.obj = o
	if st, msg, ok := jobStatus(o); ok {
		t.status, t.message = st, msg
		return
	}
	res, err := status.Compute(o)
	if err != nil {
		t.status, t.message = StatusInProgress, fmt.Sprintf("compute status: %v", err)
		return
	}
	t.message = res.Message
	switch res.Status {
	case status.CurrentStatus:
		t.status = StatusCurrent
	case status.FailedStatus:
		t.status = StatusFailed
	default:
		t.status = StatusInProgress
		if res.Status == status.TerminatingStatus {
			t.message = "being deleted: " + res.Message
		}
	}
}

// checkPods fails pending workloads whose current pods are failing, rather
// than waiting for the Deployment's progress deadline.
func (w *Waiter) checkPods(ctx context.Context, pending []*tracked) {
	byNS := map[string][]*tracked{}
	for _, t := range pending {
		if t.status == StatusInProgress && t.obj != nil && isWorkload(t.ref) {
			byNS[t.ref.Namespace] = append(byNS[t.ref.Namespace], t)
		}
	}
	namespaces := make([]string, 0, len(byNS))
	for ns := range byNS {
		namespaces = append(namespaces, ns)
	}
	sort.Strings(namespaces)
	for _, ns := range namespaces {
		idx, err := w.indexPods(ctx, ns, needsReplicaSets(byNS[ns]))
		if err != nil {
			zerolog.Ctx(ctx).Debug().Err(err).Str("namespace", ns).Msg("list pods for wait")
			continue
		}
		for _, t := range byNS[ns] {
			for _, p := range idx.current(t.obj) {
				if reason, failed := podFailure(p); failed {
					t.status = StatusFailed
					t.message = fmt.Sprintf("pod %s: %s", p.Name, reason)
					break
				}
			}
		}
	}
}

// isWorkload: kinds whose health is their pods'.
func isWorkload(r planner.ObjectRef) bool {
	switch r.Group + "/" + r.Kind {
	case "apps/Deployment", "apps/StatefulSet", "apps/DaemonSet", "apps/ReplicaSet", "batch/Job":
		return true
	}
	return false
}

func needsReplicaSets(ts []*tracked) bool {
	for _, t := range ts {
		if t.ref.Kind == "Deployment" {
			return true
		}
	}
	return false
}
