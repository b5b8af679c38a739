package main

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/ops"
)

// resyncLoop is the leader's catch-up round (ops.Resync): once as soon as
// this replica leads — a leader that just took over from a dead one makes
// good what it left — then every interval.
func resyncLoop(o *ops.Ops, every time.Duration) kube.Loop {
	return kube.Loop{Name: "resync", Run: func(ctx context.Context) {
		log := zerolog.Ctx(ctx)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if err := o.Resync(ctx); err != nil && ctx.Err() == nil {
				log.Error().Err(err).Msg("resync round incomplete; the next round tries again")
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}}
}

// singletons are the loops only the leader runs.
func singletons(o *ops.Ops, resyncEvery, driftEvery time.Duration) []kube.Loop {
	var loops []kube.Loop
	if resyncEvery > 0 {
		loops = append(loops, resyncLoop(o, resyncEvery))
	}
	// Drift rounds are the leader's too: several replicas checking the
	// same environments would open and close the same issues at once.
	loops = append(loops, kube.Loop{Name: "drift", Run: func(ctx context.Context) { runDrift(ctx, o, driftEvery) }})
	return loops
}
