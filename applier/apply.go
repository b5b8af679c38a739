package applier

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/planner"
)

// Planner is what the applier needs of the planner: the plan; for each
// object it creates or updates, the object exactly as its dry-run sent it
// (ApplySet labels included, ignored fields removed), so the apply writes
// what reviewers saw; and the plan's Redactor, through which every message
// of the apply goes.
type Planner interface {
	PlanForApply(ctx context.Context, in planner.Input) (*planner.ApplyPlan, error)
}

// Applier applies plans to the clusters of a registry. It logs to
// zerolog.Ctx of the context it is given, whose logger the caller has given
// the request's fields (repository, PR, environment, cluster).
type Applier struct {
	Planner  Planner
	Clusters *kube.Registry
}

// Options tune one apply.
type Options struct {
	// AllowDangerous permits the changes the plan marks dangerous (deletes
	// that lose data, addresses, webhooks, APIs or tugboat's own access;
	// taking objects over from another ApplySet: planner's danger.go).
	AllowDangerous bool
	// KeepDangerous applies the rest of a plan whose dangerous changes are
	// not allowed, leaving those objects as they are (Result.Kept) instead
	// of refusing: reverting a closed pull request brings back what it can.
	KeepDangerous bool
	// PR is the pull request applied, for the durable record (0: none).
	PR int
	// Head is the PR's head commit, for the record (the commit applied is
	// the test merge commit, in.HeadSHA).
	Head string
	// Trigger is what caused the apply, for the record (kube.TriggerApply,
	// kube.TriggerMerge, ...; default kube.TriggerApply).
	Trigger string
	// Progress, when set, receives per-object progress. Calls are serialized.
	Progress func(ProgressEvent)
	// WaitInterval is the convergence poll interval (default one second).
	WaitInterval time.Duration
	// BeforeWrite, when set, is called once the re-plan matched the shown
	// digest and passed every check, just before the first write: from
	// here on there is an apply to report (the bot opens its check run,
	// status and Deployment). It is not called for a refused apply.
	BeforeWrite func(ctx context.Context, plan *planner.Plan)
	// Planned, when set, is the plan of in made by Plan, which Apply uses
	// instead of re-planning; its digest and every check are still
	// applied to it. Two callers may: one that made it while holding the
	// environment's apply mutex (and holds it still), so no other tugboat
	// write can have come in between (a merge deploy plans each
	// environment to decide what to do with it; re-planning at once
	// would double its planning time); and one that shows this very plan
	// and applies it with no human decision in between (`bot apply`: the
	// plan printed is then exactly the plan applied). A caller that shows
	// a plan and later applies on someone's word must let Apply re-plan.
	Planned *Planned
}

// Planned is a plan made for applying: the plan, the objects its dry-run
// sent, which the apply writes, and the Redactor every message of the
// apply goes through.
type Planned struct {
	Plan     *planner.Plan
	objects  map[planner.ObjectRef]*unstructured.Unstructured
	redactor *planner.Redactor
	took     time.Duration
}

// Plan plans in exactly as Apply's re-plan does, for a caller that hands
// the result to Apply (Options.Planned says which callers may).
func (a *Applier) Plan(ctx context.Context, in planner.Input) (*Planned, error) {
	start := time.Now()
	ap, err := a.Planner.PlanForApply(ctx, in)
	if err != nil {
		return nil, err // the planner's errors name the environment: "plan <env>: ..."
	}
	return &Planned{Plan: ap.Plan, objects: ap.Objects, redactor: ap.Redactor, took: time.Since(start)}, nil
}

// Result is what an apply did and the state it left the environment in.
type Result struct {
	Plan      *planner.Plan
	Writes    []ObjectWrite
	Takeovers []Takeover
	Prunes    []ObjectPrune
	// Kept are dangerous changes left undone (Options.KeepDangerous).
	Kept []planner.Change
	// Wait is nil when the apply stopped before waiting.
	Wait    *WaitResult
	Outcome kube.Outcome

	PlanTime, ApplyTime, PruneTime, WaitTime time.Duration
}

// Converged reports whether the environment converged.
func (r *Result) Converged() bool { return r != nil && r.Outcome == kube.OutcomeConverged }

// run is the state of one apply.
type run struct {
	c      *clients
	waiter *Waiter
	opts   Options
	// red scrubs the plan's Secret values (rendered and live) from every
	// message the apply reports: webhooks and policies that act only on
	// real writes may quote object.data or oldObject.data.
	red        *planner.Redactor
	progressMu sync.Mutex
}

// Apply applies the plan of in if its digest is still shown: it re-plans
// (unless opts.Planned hands it a plan made under the apply mutex), and
// refuses — writing nothing — when the digest differs (a
// *PlanChangedError carrying the new plan), when the plan has problems,
// when it deletes something dangerous without opts.AllowDangerous, or when
// the bot lacks a permission it needs. Otherwise it records the apply as in
// progress on the ApplySet parent, applies in stages, prunes, waits for
// convergence and records the outcome.
//
// The error is nil only when the environment converged. A Result is
// returned whenever a plan was made, also with an error. Neither holds a
// Secret value the plan knows of: every message is redacted.
func (a *Applier) Apply(ctx context.Context, shown string, in planner.Input, opts Options) (_ *Result, err error) {
	if shown == "" {
		return nil, errors.New("apply: no plan digest given: an apply applies only a plan that was shown")
	}
	kc, err := a.Clusters.Cluster(in.Env.Cluster)
	if err != nil {
		return nil, fmt.Errorf("apply %s: %w", in.Env.Name, err)
	}
	c, err := newClients(kc)
	if err != nil {
		return nil, fmt.Errorf("apply %s: %w", in.Env.Name, err)
	}
	r := &run{c: c, waiter: &Waiter{c: c}, opts: opts}
	set := kube.ApplySet{Repo: in.RepoName, Env: in.Env.Name}

	planned := opts.Planned
	if planned == nil {
		var err error
		if planned, err = a.Plan(ctx, in); err != nil {
			return nil, fmt.Errorf("apply %s: re-plan: %w", in.Env.Name, err)
		}
	}
	plan, objs := planned.Plan, planned.objects
	r.red = planned.redactor
	// Whatever error ends the apply from here on, its text is redacted.
	defer func() { err = r.clean(err) }()
	res := &Result{Plan: plan, PlanTime: planned.took, Outcome: kube.OutcomeFailed}
	if plan.Digest != shown {
		return res, &PlanChangedError{Shown: shown, Plan: plan}
	}
	if len(plan.Problems) > 0 {
		return res, &ProblemsError{Problems: plan.Problems}
	}
	writes, deletes, waitRefs, err := split(plan, objs)
	if err != nil {
		return res, fmt.Errorf("apply %s: %w", in.Env.Name, err)
	}
	if danger := dangerous(plan); len(danger) > 0 && !opts.AllowDangerous {
		if !opts.KeepDangerous {
			return res, &DangerousError{Changes: danger}
		}
		deletes = withoutChanges(deletes, danger)
		writes = withoutDangerousWrites(writes, danger)
		res.Kept = danger
	}
	if err := r.preflight(ctx, writes, deletes); err != nil {
		return res, err
	}
	if opts.BeforeWrite != nil {
		opts.BeforeWrite(ctx, plan)
	}

	inv, err := kube.ReadInventory(ctx, kc, set)
	if err != nil {
		return res, fmt.Errorf("apply %s: %w", in.Env.Name, err)
	}
	trigger := opts.Trigger
	if trigger == "" {
		trigger = kube.TriggerApply
	}
	rec := kube.Record{Commit: in.Commit, PR: opts.PR, Head: opts.Head, Trigger: trigger, Digest: plan.Digest, Outcome: kube.OutcomeInProgress, Time: time.Now()}
	// Before the first write, the parent lists every kind and namespace the
	// apply may create, so an interrupted apply can still be pruned later.
	working := unionInventory(inv, waitRefs)
	if len(writes)+len(deletes) > 0 {
		kube.SetRecord(&working, rec)
		if err := kube.WriteInventory(ctx, kc, set, working); err != nil {
			return res, fmt.Errorf("apply %s: record start: %w", in.Env.Name, err)
		}
	}

	stage := newStageResult(writes)
	t := time.Now()
	applyErr := r.applyStaged(ctx, writes, stage)
	res.ApplyTime = time.Since(t)
	res.Writes, res.Takeovers = stage.writes, stage.takeovers
	if applyErr != nil {
		return res, a.fail(ctx, kc, set, working, rec, res, in, r.red.RedactError(applyErr))
	}

	if len(deletes) > 0 {
		t = time.Now()
		prunes, err := r.prune(ctx, deletes, set)
		res.PruneTime = time.Since(t)
		res.Prunes = prunes
		if err != nil {
			return res, a.fail(ctx, kc, set, working, rec, res, in, r.red.RedactError(err))
		}
	}

	t = time.Now()
	wait, err := r.waiter.Wait(ctx, waitRefs, WaitOptions{
		Timeout:  in.Env.Wait,
		Interval: opts.WaitInterval,
		Selector: kube.LabelApplySetPartOf + "=" + set.ID(),
		OnChange: func(s ObjectStatus) {
			r.progress(ctx, ProgressEvent{Phase: PhaseWait, Ref: s.Ref, Outcome: string(s.Status), Message: s.Message})
		},
	})
	res.WaitTime = time.Since(t)
	res.Wait = redactWait(r.red, wait)
	if err != nil {
		return res, a.fail(ctx, kc, set, working, rec, res, in, r.red.RedactError(err))
	}

	final, err := r.finalInventory(ctx, working, waitRefs, set)
	if err != nil {
		return res, a.fail(ctx, kc, set, working, rec, res, in, r.red.RedactError(err))
	}
	return res, a.recordOutcome(ctx, kc, set, inv, final, rec, res, len(writes)+len(deletes) > 0)
}

// recordOutcome records how the apply ended on the ApplySet parent, and
// returns the error for an environment that did not converge. An apply
// that wrote nothing writes the record only if it has news (see
// recordChanged), so re-applying an unchanged plan makes no write at all.
func (a *Applier) recordOutcome(ctx context.Context, kc *kube.Cluster, set kube.ApplySet, old *kube.Inventory, final kube.Inventory, rec kube.Record, res *Result, wrote bool) error {
	rec.Time = time.Now()
	var outErr error
	if res.Wait.Converged {
		res.Outcome, rec.Outcome = kube.OutcomeConverged, kube.OutcomeConverged
	} else {
		res.Outcome, rec.Outcome = kube.OutcomeFailed, kube.OutcomeFailed
		outErr = notConverged(res.Wait)
		rec.Message = outErr.Error()
	}
	if !wrote && !recordChanged(old, rec) && sameInventory(old, final) {
		return outErr
	}
	if !wrote && old != nil {
		// The record's digest stays that of the plan that made the
		// environment what it is.
		rec.Digest = kube.RecordFrom(old).Digest
	}
	kube.SetRecord(&final, rec)
	if err := kube.WriteInventory(ctx, kc, set, final); err != nil {
		return fmt.Errorf("apply %s: record outcome: %w", set.Env, err)
	}
	return outErr
}

// withoutDangerousWrites drops the writes of dangerous changes (a takeover
// from another ApplySet) that KeepDangerous leaves undone.
func withoutDangerousWrites(ws []desired, changes []planner.Change) []desired {
	drop := map[planner.ObjectRef]bool{}
	for _, c := range changes {
		drop[c.Ref] = true
	}
	out := ws[:0:0]
	for _, w := range ws {
		if !drop[w.change.Ref] {
			out = append(out, w)
		}
	}
	return out
}

// withoutChanges drops the refs of changes from refs.
func withoutChanges(refs []planner.ObjectRef, changes []planner.Change) []planner.ObjectRef {
	drop := map[planner.ObjectRef]bool{}
	for _, c := range changes {
		drop[c.Ref] = true
	}
	out := refs[:0:0]
	for _, r := range refs {
		if !drop[r] {
			out = append(out, r)
		}
	}
	return out
}

// dangerous lists the plan's changes that need AllowDangerous: every one
// the plan marks, as the comment shows them.
func dangerous(plan *planner.Plan) []planner.Change {
	var out []planner.Change
	for _, ch := range plan.Changes {
		if ch.Action != planner.ActionUnchanged && ch.Danger != "" {
			out = append(out, ch)
		}
	}
	return out
}

// split pairs the plan's creates and updates with the objects to send, and
// lists its deletes and every object the environment renders.
func split(plan *planner.Plan, objs map[planner.ObjectRef]*unstructured.Unstructured) (writes []desired, deletes, rendered []planner.ObjectRef, err error) {
	for _, ch := range plan.Changes {
		switch ch.Action {
		case planner.ActionCreate, planner.ActionUpdate, planner.ActionAdopt:
			// Adopting is an update that adds the membership label.
			o, ok := objs[ch.Ref]
			if !ok {
				return nil, nil, nil, fmt.Errorf("planner gave no object for %s", ch.Ref)
			}
			writes = append(writes, desired{change: ch, obj: o})
			rendered = append(rendered, ch.Ref)
		case planner.ActionUnchanged:
			rendered = append(rendered, ch.Ref)
		case planner.ActionDelete:
			deletes = append(deletes, ch.Ref)
		}
	}
	return writes, deletes, rendered, nil
}

// notConverged summarises a wait that ended without convergence.
func notConverged(w *WaitResult) error {
	if f := w.Failed(); len(f) > 0 {
		var parts []string
		for _, o := range f {
			parts = append(parts, fmt.Sprintf("%s: %s", o.Ref, o.Message))
		}
		return fmt.Errorf("not converged: %d object(s) failed: %s", len(f), joinCapped(parts, 3))
	}
	p := w.Pending()
	var parts []string
	for _, o := range p {
		parts = append(parts, fmt.Sprintf("%s (%s: %s)", o.Ref, o.Status, o.Message))
	}
	return fmt.Errorf("not converged within %s: %d object(s) not ready: %s", w.Duration.Round(time.Second), len(p), joinCapped(parts, 3))
}
