package ops

import (
	"context"
	"io/fs"

	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/planner"
)

// driftRenders is how many render children a drift round runs at once.
//
// Why one: a round plans up to Drift.Concurrency environments at once, and
// without a bound of its own each of them may start a render child (up to
// the process-wide render gate: two on a two-core machine). A child is a
// start of the whole bot binary, about 70 MiB resident before it renders
// anything, so on a 20 × 500-object round two children at once took the
// bot's peak RSS past 300 MiB (269–330 MiB; one child at a time: 226 MiB).
// The price is time: renders no longer overlap, so a round of 20
// environments of 500 objects took 83 s instead of 53 s (median of three,
// on a two-core machine at load 25–35). Drift rounds run every 10 minutes
// by default and nobody waits on one, so memory wins; the dry-runs of the
// environments checked at once still overlap. Plans of pull requests keep
// the render gate's bound: they are what people wait for.
const driftRenders = 1

// boundRenderer renders through r, at most cap(slots) at once.
type boundRenderer struct {
	r     Renderer
	slots chan struct{}
}

func newBoundRenderer(r Renderer, n int) *boundRenderer {
	if r == nil {
		return nil
	}
	return &boundRenderer{r: r, slots: make(chan struct{}, n)}
}

// Render implements planner.ManifestRenderer.
func (b *boundRenderer) Render(ctx context.Context, repo fs.FS, env config.Environment) ([]planner.Object, []planner.Problem, error) {
	select {
	case b.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, context.Cause(ctx)
	}
	defer func() { <-b.slots }()
	return b.r.Render(ctx, repo, env)
}

// driftRenderer is the renderer of drift checks' plans: nil (the planner's
// own) when no renderer was given to Ops.
func (o *Ops) driftRenderer() planner.ManifestRenderer {
	if o.driftRenders == nil {
		return nil
	}
	return o.driftRenders
}
