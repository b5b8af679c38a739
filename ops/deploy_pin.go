package ops

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
)

// pinGate keeps a merge deploy away from a pinned environment, before it
// plans anything; the reason says so on the pushed commit's status and the
// merged PR. The merge of the pin's revert pull request unpins instead:
// that is the fix the rollback was waiting for, and it deploys.
func (d *deployRun) pinGate(ctx context.Context, env config.Environment) *comments.Reason {
	log := zerolog.Ctx(ctx)
	pin, err := d.o.state.Pin(ctx, env, d.req.Repo.FullName())
	if err != nil {
		r := comments.ReasonOther("could not read the environment's pin: " + err.Error())
		return &r
	}
	if pin == nil {
		return nil
	}
	if d.pr != nil && pin.RevertPR != 0 && pin.RevertPR == d.pr.Number {
		if err := d.o.state.Unpin(ctx, env, d.req.Repo.FullName()); err != nil {
			r := comments.ReasonOther("could not unpin after the revert merged: " + err.Error())
			return &r
		}
		log.Info().Int("revert_pr", pin.RevertPR).Msg("the pin's revert merged: unpinned")
		return nil
	}
	r := (&PinnedError{Env: env.Name, Pin: *pin}).Reason()
	return &r
}
