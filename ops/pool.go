package ops

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/rs/zerolog"
)

// pool runs applies on workers of their own, so an apply waiting minutes
// for convergence never holds a webhook worker (and never stalls planning).
type pool struct {
	sem chan struct{}
	wg  sync.WaitGroup
}

func newPool(workers int) *pool {
	return &pool{sem: make(chan struct{}, workers)}
}

// Go runs f on the pool. A panic is logged, not fatal: it is this apply's
// failure, not the bot's.
func (p *pool) Go(ctx context.Context, f func(ctx context.Context)) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.sem <- struct{}{}
		defer func() { <-p.sem }()
		defer func() {
			if v := recover(); v != nil {
				zerolog.Ctx(ctx).Error().Str("panic", firstLine(v)).Str("stack", string(debug.Stack())).Msg("apply crashed")
			}
		}()
		f(ctx)
	}()
}

// Wait waits for every apply started.
func (p *pool) Wait() { p.wg.Wait() }

// firstLine is a panic value's first line: enough to say what broke
// without a stack in a reply.
func firstLine(v any) string {
	s := fmt.Sprint(v)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// runDetached runs job on the apply pool when detach hands it one (later
// events of the same pull request or repository then wait for it), else
// inline.
func (o *Ops) runDetached(ctx context.Context, detach func() func(), job func(ctx context.Context)) {
	if detach != nil {
		if done := detach(); done != nil {
			o.applies.Go(ctx, func(ctx context.Context) {
				defer done()
				job(ctx)
			})
			return
		}
	}
	job(ctx)
}
