package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/planner"
)

// planFlags are `bot plan`'s flags.
type planFlags struct {
	localFlags
	output string
}

// runPlan implements `bot plan`. Exit status: 0 no changes, 2 changes,
// 1 any problem (Terraform's -detailed-exitcode).
func runPlan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f planFlags
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs, "plan", "plan every environment")
	fs.StringVar(&f.output, "o", "markdown", "output format: markdown or json")
	if err := fs.Parse(args); err != nil {
		return 1
	}
	if err := f.check(); err != nil {
		fmt.Fprintf(stderr, "bot plan: %v\n", err)
		fs.Usage()
		return 1
	}
	plans, err := plan(ctx, f, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "bot plan: %v\n", err)
		return 1
	}
	if f.output == "json" {
		err = writeJSON(stdout, plans)
	} else {
		_, err = io.WriteString(stdout, comments.RenderLocalPlans(plans))
	}
	if err != nil {
		fmt.Fprintf(stderr, "bot plan: %v\n", err)
		return 1
	}
	return exitCode(plans)
}

func (f planFlags) check() error {
	switch {
	case f.repo == "":
		return errors.New("--repo is required")
	case f.config == "":
		return errors.New("--config is required")
	case f.all == (f.env != ""):
		return errors.New("give exactly one of --env NAME and --all")
	case f.output != "markdown" && f.output != "json":
		return fmt.Errorf("-o %q: want markdown or json", f.output)
	}
	return nil
}

func plan(ctx context.Context, f planFlags, stderr io.Writer) ([]*planner.Plan, error) {
	l, err := setupLocal(ctx, f.localFlags, stderr)
	if err != nil {
		return nil, err
	}
	in := l.input
	var plans []*planner.Plan
	for _, env := range l.envs {
		in.Env = env
		pl, err := l.planner.Plan(l.envContext(ctx, env), in)
		if err != nil {
			return nil, err
		}
		plans = append(plans, pl)
	}
	return plans, nil
}
