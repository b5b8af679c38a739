package applier

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/planner"
)

// Phase is a step of an apply.
type Phase string

// The phases of an apply, in order.
const (
	PhasePlan  Phase = "plan"
	PhaseApply Phase = "apply"
	PhasePrune Phase = "prune"
	PhaseWait  Phase = "wait"
)

// ProgressEvent reports one object's step, for per-object progress output
// (`bot apply`) and logs.
type ProgressEvent struct {
	Phase  Phase
	Ref    planner.ObjectRef
	Action planner.Action
	// Outcome is the write, prune or wait outcome ("applied", "deleted",
	// "Current", "Failed", …).
	Outcome string
	Message string
	Err     error
}

// progress logs e and passes it on, its message and error redacted.
func (a *run) progress(ctx context.Context, e ProgressEvent) {
	e.Message = a.red.Redact(e.Message)
	if e.Err != nil {
		e.Err = a.red.RedactObjectError(e.Ref, e.Err)
	}
	log := zerolog.Ctx(ctx)
	if e.Err != nil {
		log.Warn().Err(e.Err).Str("phase", string(e.Phase)).Str("object", e.Ref.String()).Msg(e.Outcome)
	} else {
		log.Debug().Str("phase", string(e.Phase)).Str("object", e.Ref.String()).Msg(e.Outcome)
	}
	if a.opts.Progress != nil {
		a.progressMu.Lock()
		defer a.progressMu.Unlock()
		a.opts.Progress(e)
	}
}
