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
// bot's peak RSS past 300 MiB. A render is a small part of a drift check
// (the 500 dry-runs after it are the bulk, and they still overlap across
// environments), so rendering one environment at a time costs a round
// little time and takes a child's worth of memory off its peak. Plans of
// pull requests keep the render gate's bound: they are what people wait for.
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
