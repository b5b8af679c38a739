package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sync"

	"github.com/tugboatops/tugboat/applier"
	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/planner"
)

// applyFlags are `bot apply`'s flags: `bot plan`'s, plus what says which
// plan may be applied.
type applyFlags struct {
	localFlags
	digest              string
	yes, allowDangerous bool
}

// runApply implements `bot apply`, for disaster recovery and local use
// ("a cluster died: rebuild it from Git"). It prints the plan, applies it
// if its digest is the one given (--digest) or the user said --yes, and
// prints per-object progress and the convergence result. Exit status: 0
// converged, 1 failed, refused or not converged in time.
func runApply(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f applyFlags
	fs := flag.NewFlagSet("apply", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs, "apply", "apply every environment (with --yes), each after those it names in `after`")
	f.needRepoName = true
	fs.StringVar(&f.digest, "digest", "", "apply only if the plan still has this digest (from `bot plan`)")
	fs.BoolVar(&f.yes, "yes", false, "apply the plan just computed, without a digest")
	fs.BoolVar(&f.allowDangerous, "allow-dangerous", false, "allow changes the plan marks dangerous (deletes that lose data, addresses, webhooks, APIs or tugboat's own access; taking over another ApplySet's objects)")
	if err := fs.Parse(args); err != nil {
		return 1
	}
	if err := f.check(); err != nil {
		fmt.Fprintf(stderr, "bot apply: %v\n", err)
		fs.Usage()
		return 1
	}
	ok, err := apply(ctx, f, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "bot apply: %v\n", err)
		return 1
	}
	if !ok {
		return 1
	}
	return 0
}

func (f applyFlags) check() error {
	switch {
	case f.repo == "":
		return errors.New("--repo is required")
	case f.config == "":
		return errors.New("--config is required")
	case f.all == (f.env != ""):
		return errors.New("give exactly one of --env NAME and --all")
	case f.yes == (f.digest != ""):
		return errors.New("give exactly one of --digest D (from `bot plan`) and --yes")
	case f.all && f.digest != "":
		return errors.New("--digest names one environment's plan: use it with --env")
	}
	return nil
}

// apply applies the selected environments and reports whether all
// converged; it stops at the first one that does not.
func apply(ctx context.Context, f applyFlags, stdout, stderr io.Writer) (bool, error) {
	l, err := setupLocal(ctx, f.localFlags, stderr)
	if err != nil {
		return false, err
	}
	a := &applier.Applier{Planner: l.planner, Clusters: l.clusters}
	in := l.input
	for _, env := range l.envs {
		in.Env = env
		if !holdAndApplyEnv(l.envContext(ctx, env), l, a, in, f, stdout) {
			return false, nil
		}
	}
	return true, nil
}

// holdAndApplyEnv applies one environment under its apply mutex, the one
// every write of the bot takes (merge deploys, /apply, heals): a local
// apply never interleaves with them, and a pinned environment is refused
// as the bot's own writes refuse it.
func holdAndApplyEnv(ctx context.Context, l *local, a *applier.Applier, in planner.Input, f applyFlags, out io.Writer) bool {
	ctx, release, err := l.holdEnv(ctx, in.Env, out)
	if err != nil {
		fmt.Fprintf(out, "%s: %v\n", in.Env.Name, err)
		return false
	}
	defer release()
	if err := l.refusePinned(ctx, in.Env); err != nil {
		fmt.Fprintf(out, "%s: %v\n", in.Env.Name, err)
		return false
	}
	return applyEnv(ctx, a, in, f, out)
}

// applyEnv plans one environment, shows the plan, applies it and prints
// the outcome. It reports whether the environment converged. The caller
// holds the environment's apply mutex.
//
// The plan shown is the plan applied: it is made once under the mutex, as
// the applier's re-plan makes it (applier.Plan), printed, and handed to
// Apply (Options.Planned), which checks its digest and every other
// condition as for a plan of its own. No other tugboat write can come in
// between under the mutex, so a second plan would guard nothing. With
// --digest, the plan a human reviewed is the one `bot plan` printed, and
// Apply compares this plan's digest with it, as it would a re-plan's. With
// --yes, nobody decides between the print and the writes, so a re-plan
// would only compare the plan with itself a second later; if the cluster
// changed in that second, it refused an apply the user had already
// accepted, or applied a plan other than the one printed. Planning once
// halves the planning (render child, discovery, LISTs, dry-runs) of every
// `bot apply`.
func applyEnv(ctx context.Context, a *applier.Applier, in planner.Input, f applyFlags, out io.Writer) bool {
	// The plan is printed first in either case: with --digest, so the user
	// sees what the digest stands for before it is applied.
	planned, err := a.Plan(ctx, in)
	if err != nil {
		fmt.Fprintf(out, "%s: plan failed: %v\n", in.Env.Name, err)
		return false
	}
	if _, err := io.WriteString(out, comments.RenderLocalPlans([]*planner.Plan{planned.Plan})); err != nil {
		fmt.Fprintf(out, "%s: %v\n", in.Env.Name, err)
		return false
	}
	digest := f.digest
	if f.yes {
		digest = planned.Plan.Digest
	}
	fmt.Fprintf(out, "\n## Applying %s (plan %s)\n\n", in.Env.Name, digest)
	var mu sync.Mutex
	res, err := a.Apply(ctx, digest, in, applier.Options{
		AllowDangerous: f.allowDangerous,
		Planned:        planned,
		Progress: func(e applier.ProgressEvent) {
			mu.Lock()
			defer mu.Unlock()
			printProgress(out, e)
		},
	})
	if errors.Is(err, applier.ErrPlanChanged) {
		// The plan above is the current one: its digest is not the one
		// given.
		fmt.Fprintf(out, "%s: %v. The plan now is the one above.\n", in.Env.Name, err)
		return false
	}
	fmt.Fprintln(out)
	applier.WriteReport(out, res)
	if err != nil {
		fmt.Fprintf(out, "%s: %v\n", in.Env.Name, err)
		return false
	}
	return res.Converged()
}

func printProgress(w io.Writer, e applier.ProgressEvent) {
	switch e.Phase {
	case applier.PhaseApply, applier.PhasePrune:
		if e.Err != nil {
			fmt.Fprintf(w, "  %-8s %-14s %s: %v\n", e.Phase, e.Outcome, e.Ref, e.Err)
			return
		}
		fmt.Fprintf(w, "  %-8s %-14s %s\n", e.Phase, e.Outcome, e.Ref)
	case applier.PhaseWait:
		fmt.Fprintf(w, "  %-8s %-14s %s %s\n", e.Phase, e.Outcome, e.Ref, e.Message)
	}
}
