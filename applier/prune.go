package applier

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugboatops/tugboat/internal/panics"
	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/planner"
)

// PruneOutcome is what happened to one object the plan deletes.
type PruneOutcome string

// The prune outcomes.
const (
	Pruned PruneOutcome = "deleted"
	// PruneKept: the live object opted out (tugboat.dev/prune: disabled) or
	// is no longer a member of this ApplySet.
	PruneKept         PruneOutcome = "kept"
	PruneGone         PruneOutcome = "already gone"
	PruneFailed       PruneOutcome = "failed"
	PruneNotAttempted PruneOutcome = "not attempted"
)

// ObjectPrune is the outcome of pruning one object.
type ObjectPrune struct {
	Ref     planner.ObjectRef
	Outcome PruneOutcome
	Reason  string // why kept, or the error
}

// prune deletes the plan's deletes: ApplySet members no longer rendered.
// Namespaces and CRDs go last, after what may live in them. Each object is
// read first and deleted only if it still carries this set's label and has
// not opted out, with its UID as precondition, so an object re-created by
// someone else since the read is never deleted.
//
// Why not ssa.DeleteAll: it deletes one object at a time through a
// controller-runtime client and checks opt-outs against a selector only;
// we need the membership check, the UID precondition and concurrency.
func (a *run) prune(ctx context.Context, refs []planner.ObjectRef, set kube.ApplySet) ([]ObjectPrune, error) {
	out := make([]ObjectPrune, len(refs))
	var early, late []int
	for i, r := range refs {
		out[i] = ObjectPrune{Ref: r, Outcome: PruneNotAttempted}
		if r.IsCRD() || r.IsNamespace() {
			late = append(late, i)
		} else {
			early = append(early, i)
		}
	}
	var mu sync.Mutex
	var errs []error
	for _, batch := range [][]int{early, late} {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(applyConcurrency)
		for _, i := range batch {
			g.Go(func() error {
				o, reason, err := a.pruneOneSafely(gctx, refs[i], set)
				// A webhook refusing a delete may quote oldObject.data.
				err = a.red.RedactObjectError(refs[i], err)
				if err != nil {
					reason = err.Error()
				}
				out[i].Outcome, out[i].Reason = o, reason
				a.progress(ctx, ProgressEvent{Phase: PhasePrune, Ref: refs[i], Action: planner.ActionDelete, Outcome: string(o), Err: err})
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
			break
		}
	}
	return out, errors.Join(errs...)
}

// pruneOneSafely is pruneOne with a panic turned into this object's
// failure (with the panic's first line), never the process's.
func (a *run) pruneOneSafely(ctx context.Context, ref planner.ObjectRef, set kube.ApplySet) (o PruneOutcome, reason string, err error) {
	var crashed error
	defer func() {
		if crashed != nil {
			err = fmt.Errorf("%s: prune: %w", ref, crashed)
			o, reason = PruneFailed, err.Error()
		}
	}()
	defer panics.Recover(ctx, &crashed)
	return a.pruneOne(ctx, ref, set)
}

func (a *run) pruneOne(ctx context.Context, ref planner.ObjectRef, set kube.ApplySet) (PruneOutcome, string, error) {
	ri, _, err := a.c.resource(ref)
	if err != nil {
		return PruneFailed, err.Error(), err
	}
	live, err := ri.Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return PruneGone, "", nil
	}
	if err != nil {
		err = fmt.Errorf("%s: read before prune: %w", ref, err)
		return PruneFailed, err.Error(), err
	}
	if live.GetAnnotations()[AnnotationPrune] == PruneDisabled {
		return PruneKept, AnnotationPrune + ": " + PruneDisabled, nil
	}
	if live.GetLabels()[kube.LabelApplySetPartOf] != set.ID() {
		return PruneKept, "no longer a member of this ApplySet", nil
	}
	uid := live.GetUID()
	policy := metav1.DeletePropagationBackground
	err = ri.Delete(ctx, ref.Name, metav1.DeleteOptions{
		Preconditions:     &metav1.Preconditions{UID: &uid},
		PropagationPolicy: &policy,
	})
	switch {
	case apierrors.IsNotFound(err):
		return PruneGone, "", nil
	case apierrors.IsConflict(err):
		return PruneKept, "re-created since it was read", nil
	case err != nil:
		err = fmt.Errorf("%s: prune: %w", ref, err)
		return PruneFailed, err.Error(), err
	}
	return Pruned, "", nil
}
