package main

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/ops"
)

// runDrift runs drift rounds every interval until ctx ends: the first one
// interval after start, so a bot that restarts in a loop does not plan
// every environment each time. Rounds never overlap (a slow round delays
// the next tick's). It is a plain function so that leader election can run
// it on one replica: drift rounds are a singleton — two replicas would
// report and heal the same drift twice.
func runDrift(ctx context.Context, o *ops.Ops, interval time.Duration) {
	log := zerolog.Ctx(ctx)
	log.Info().Dur("interval", interval).Msg("drift detection running")
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := o.DriftRound(ctx); err != nil && ctx.Err() == nil {
			log.Warn().Err(err).Msg("drift round: some environments could not be checked")
		}
	}
}
