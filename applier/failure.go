package applier

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/planner"
)

// failureReportTimeout bounds the work done after a failure (re-plan,
// record): the caller's context may be cancelled already.
const failureReportTimeout = 30 * time.Second

// fail turns an apply that stopped part-way into an *IncompleteError saying
// what was and wasn't applied, and records the failure on the ApplySet
// parent. What landed is learned by re-planning, since a write whose answer
// was lost may or may not have been made; when the cluster cannot be
// planned against, the outcomes the writes returned are reported instead,
// with the lost ones as unknown. If the record cannot be written (the API
// server is gone), the parent keeps saying "in progress": the truth.
// cause is redacted already: its text goes into the parent's record.
func (a *Applier) fail(ctx context.Context, kc *kube.Cluster, set kube.ApplySet, working kube.Inventory, rec kube.Record, res *Result, in planner.Input, cause error) error {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), failureReportTimeout)
	defer cancel()
	inc := &IncompleteError{Cause: cause}

	after := a.replanAfterFailure(fctx, in)
	for _, w := range res.Writes {
		switch {
		case after != nil:
			if act, ok := after[w.Ref]; (ok && act == planner.ActionUnchanged) || w.Outcome == WriteSkipped {
				inc.Applied = append(inc.Applied, w.Ref)
			} else {
				inc.NotApplied = append(inc.NotApplied, w.Ref)
			}
		case w.Outcome == WriteApplied || w.Outcome == WriteSkipped:
			inc.Applied = append(inc.Applied, w.Ref)
		case w.Outcome == WriteUnknown:
			inc.Unknown = append(inc.Unknown, w.Ref)
		default:
			inc.NotApplied = append(inc.NotApplied, w.Ref)
		}
	}
	for _, p := range res.Prunes {
		switch {
		case after != nil:
			if act, ok := after[p.Ref]; ok && act == planner.ActionDelete {
				inc.NotApplied = append(inc.NotApplied, p.Ref)
			} else {
				inc.Applied = append(inc.Applied, p.Ref)
			}
		case p.Outcome == PruneFailed || p.Outcome == PruneNotAttempted:
			inc.NotApplied = append(inc.NotApplied, p.Ref)
		default:
			inc.Applied = append(inc.Applied, p.Ref)
		}
	}

	rec.Outcome, rec.Time, rec.Message = kube.OutcomeFailed, time.Now(), inc.Error()
	kube.SetRecord(&working, rec)
	if err := kube.WriteInventory(fctx, kc, set, working); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("could not record the failed apply; the record still says in progress")
	}
	res.Outcome = kube.OutcomeFailed
	return inc
}

// replanAfterFailure re-plans until the cluster answers (it may be
// restarting) or the report's time is up. nil: no plan could be made.
func (a *Applier) replanAfterFailure(ctx context.Context, in planner.Input) map[planner.ObjectRef]planner.Action {
	for {
		ap, err := a.Planner.PlanForApply(ctx, in)
		// A plan of problems and no changes is a cluster that did not
		// answer, not an answer.
		if err == nil && !(len(ap.Plan.Problems) > 0 && len(ap.Plan.Changes) == 0) {
			plan := ap.Plan
			out := make(map[planner.ObjectRef]planner.Action, len(plan.Changes))
			for _, ch := range plan.Changes {
				out[ch.Ref] = ch.Action
			}
			return out
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(2 * time.Second):
		}
	}
}
