package applier

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugboatops/tugboat/internal/panics"
	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/planner"
)

// Per-object opt-outs: defined by the planner, which honours them too.
const (
	AnnotationApply   = planner.AnnotationApply
	ApplyIfNotPresent = planner.ApplyIfNotPresent
	AnnotationPrune   = planner.AnnotationPrune
	PruneDisabled     = planner.PruneDisabled
)

// applyConcurrency bounds the writes in flight within a stage. The planner
// measured 4–64 workers as equally fast on this kind of machine; 32 keeps
// the API server busy without queueing in its priority levels.
const applyConcurrency = 32

// crdEstablishTimeout bounds the wait for new CRDs before their custom
// resources are applied.
const crdEstablishTimeout = time.Minute

// desired is one object to write: the exact object the planner dry-ran.
type desired struct {
	change planner.Change
	obj    *unstructured.Unstructured
}

// WriteOutcome is what happened to one object the plan creates or updates.
type WriteOutcome string

// The write outcomes.
const (
	WriteApplied WriteOutcome = "applied"
	// WriteSkipped: an if-not-present object that already existed.
	WriteSkipped WriteOutcome = "skipped"
	WriteFailed  WriteOutcome = "failed"
	// WriteNotAttempted: the apply stopped before reaching the object.
	WriteNotAttempted WriteOutcome = "not attempted"
	// WriteUnknown: the request was sent but its answer lost (the
	// connection broke); a re-plan shows whether it landed.
	WriteUnknown WriteOutcome = "unknown"
)

// ObjectWrite is the outcome of writing one object.
type ObjectWrite struct {
	Ref     planner.ObjectRef
	Action  planner.Action
	Outcome WriteOutcome
	Error   string
}

// Takeover is a field tugboat took from another field manager (someone
// ran `kubectl edit` or `kubectl apply`, or a controller set it).
type Takeover struct {
	Ref     planner.ObjectRef
	Field   string
	Manager string
}

// stageResult collects the outcome of the staged apply.
type stageResult struct {
	mu        sync.Mutex
	writes    []ObjectWrite
	index     map[planner.ObjectRef]int
	takeovers []Takeover
}

func newStageResult(ds []desired) *stageResult {
	r := &stageResult{index: map[planner.ObjectRef]int{}}
	for i, d := range ds {
		r.writes = append(r.writes, ObjectWrite{Ref: d.change.Ref, Action: d.change.Action, Outcome: WriteNotAttempted})
		r.index[d.change.Ref] = i
	}
	return r
}

func (r *stageResult) set(ref planner.ObjectRef, o WriteOutcome, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := &r.writes[r.index[ref]]
	w.Outcome = o
	if err != nil {
		w.Error = err.Error()
	}
}

func (r *stageResult) takeover(ts []Takeover) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.takeovers = append(r.takeovers, ts...)
}

// stages splits the objects to write: CRDs and Namespaces first (everything
// else may live in or be an instance of them), then the rest.
func stages(ds []desired) (first, rest []desired) {
	for _, d := range ds {
		if d.change.Ref.IsCRD() || d.change.Ref.IsNamespace() {
			first = append(first, d)
		} else {
			rest = append(rest, d)
		}
	}
	return first, rest
}

// applyStaged writes ds in two stages, concurrently within each, and waits
// for new CRDs to be Established between them.
//
// Why not ssa.ResourceManager.ApplyAllStaged: it reads and dry-runs every
// object again before writing, which the plan we just made has already
// done (doubling the requests of an apply), and it returns no change set
// when one object fails, where we must say what was and wasn't written.
func (a *run) applyStaged(ctx context.Context, ds []desired, res *stageResult) error {
	first, rest := stages(ds)
	if err := a.applyAll(ctx, first, res); err != nil {
		return err
	}
	var crds []desired
	for _, d := range first {
		if d.change.Ref.IsCRD() {
			crds = append(crds, d)
		}
	}
	if err := a.waitEstablished(ctx, crds); err != nil {
		return err
	}
	return a.applyAll(ctx, rest, res)
}

// applyAll writes ds concurrently. Every object is attempted even when
// another fails (one bad object must not hide the state of the others);
// the errors are joined.
func (a *run) applyAll(ctx context.Context, ds []desired, res *stageResult) error {
	var mu sync.Mutex
	var errs []error
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(applyConcurrency)
	for _, d := range ds {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			outcome, err := a.applyOneSafely(gctx, d, res)
			err = a.red.RedactObjectError(d.change.Ref, err)
			res.set(d.change.Ref, outcome, err)
			a.progress(ctx, ProgressEvent{Phase: PhaseApply, Ref: d.change.Ref, Action: d.change.Action, Outcome: string(outcome), Err: err})
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	if ctx.Err() != nil {
		errs = append(errs, context.Cause(ctx))
	}
	return errors.Join(errs...)
}

// applyOneSafely is applyOne with a panic turned into this object's
// failure: the apply stops with the panic's first line and says what was
// written, instead of the process dying half way through an apply. Whether
// the write landed is unknown; the re-plan after the failure tells.
func (a *run) applyOneSafely(ctx context.Context, d desired, res *stageResult) (outcome WriteOutcome, err error) {
	var crashed error
	defer func() {
		if crashed != nil {
			outcome, err = WriteUnknown, fmt.Errorf("%s: apply: %w", d.change.Ref, crashed)
		}
	}()
	defer panics.Recover(ctx, &crashed)
	return a.applyOne(ctx, d, res)
}

// applyOne writes one object with server-side apply. It first applies
// without force so that a conflict names the fields another manager owns;
// it then applies with force and reports those fields as taken over. The
// common case (no conflict) costs one request.
func (a *run) applyOne(ctx context.Context, d desired, res *stageResult) (WriteOutcome, error) {
	ri, _, err := a.c.resource(d.change.Ref)
	if err != nil {
		return WriteFailed, err
	}
	if d.obj.GetAnnotations()[AnnotationApply] == ApplyIfNotPresent {
		return a.createOnce(ctx, ri, d)
	}
	body, err := d.obj.MarshalJSON()
	if err != nil {
		return WriteFailed, fmt.Errorf("%s: encode: %w", d.change.Ref, err)
	}
	opts := metav1.PatchOptions{FieldManager: kube.FieldManager}
	_, err = ri.Patch(ctx, d.obj.GetName(), types.ApplyPatchType, body, opts)
	if apierrors.IsConflict(err) {
		if ts := conflicts(d.change.Ref, err); len(ts) > 0 {
			res.takeover(ts)
		}
		force := true
		opts.Force = &force
		_, err = ri.Patch(ctx, d.obj.GetName(), types.ApplyPatchType, body, opts)
	}
	if err != nil {
		return writeFailure(err), fmt.Errorf("%s: apply: %w", d.change.Ref, err)
	}
	return WriteApplied, nil
}

// createOnce creates an if-not-present object. A plain create, not an
// apply: if someone made the object since the plan, it is theirs to keep.
func (a *run) createOnce(ctx context.Context, ri interface {
	Create(context.Context, *unstructured.Unstructured, metav1.CreateOptions, ...string) (*unstructured.Unstructured, error)
}, d desired) (WriteOutcome, error) {
	if d.change.Action != planner.ActionCreate {
		return WriteSkipped, nil
	}
	_, err := ri.Create(ctx, d.obj, metav1.CreateOptions{FieldManager: kube.FieldManager})
	if apierrors.IsAlreadyExists(err) {
		return WriteSkipped, nil
	}
	if err != nil {
		return writeFailure(err), fmt.Errorf("%s: create: %w", d.change.Ref, err)
	}
	return WriteApplied, nil
}

// writeFailure tells a refused write from one whose answer was lost.
func writeFailure(err error) WriteOutcome {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return WriteFailed
	}
	return WriteUnknown
}

// conflicts reads the fields and managers out of an apply conflict error
// (causes like `conflict with "kubectl-edit" using apps/v1` at
// `.spec.replicas`).
func conflicts(ref planner.ObjectRef, err error) []Takeover {
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Details == nil {
		return nil
	}
	var out []Takeover
	for _, c := range status.Status().Details.Causes {
		if c.Type != metav1.CauseTypeFieldManagerConflict {
			continue
		}
		out = append(out, Takeover{Ref: ref, Field: c.Field, Manager: conflictManager(c.Message)})
	}
	return out
}

func conflictManager(msg string) string {
	// conflict with "kubectl-client-side-apply" using apps/v1
	if i := strings.Index(msg, `"`); i >= 0 {
		if j := strings.Index(msg[i+1:], `"`); j >= 0 {
			return msg[i+1 : i+1+j]
		}
	}
	return msg
}

// waitEstablished waits until each CRD is Established, so the next stage
// can apply its custom resources, and until discovery serves its kinds.
func (a *run) waitEstablished(ctx context.Context, crds []desired) error {
	if len(crds) == 0 {
		return nil
	}
	refs := make([]planner.ObjectRef, len(crds))
	for i, d := range crds {
		refs[i] = d.change.Ref
	}
	res, err := a.waiter.Wait(ctx, refs, WaitOptions{Timeout: crdEstablishTimeout, Interval: 250 * time.Millisecond})
	if err != nil {
		return fmt.Errorf("wait for CRDs: %w", err)
	}
	if !res.Converged {
		var names []string
		for _, o := range res.Objects {
			if o.Status != StatusCurrent {
				names = append(names, fmt.Sprintf("%s (%s: %s)", o.Ref, o.Status, o.Message))
			}
		}
		return fmt.Errorf("CRDs not established: %s", strings.Join(names, ", "))
	}
	return a.waitDiscovered(ctx, crds)
}
