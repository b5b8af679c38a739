package ops

import (
	"context"
	"io/fs"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/planner"
)

// concurrencyRenderer records how many renders run at once.
type concurrencyRenderer struct {
	now, peak atomic.Int32
}

func (c *concurrencyRenderer) Render(ctx context.Context, _ fs.FS, _ config.Environment) ([]planner.Object, []planner.Problem, error) {
	n := c.now.Add(1)
	defer c.now.Add(-1)
	for {
		p := c.peak.Load()
		if n <= p || c.peak.CompareAndSwap(p, n) {
			break
		}
	}
	select {
	case <-time.After(20 * time.Millisecond):
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	return nil, nil, nil
}

// A drift round's renders run one at a time however many environments it
// checks at once, and a render waiting for its turn gives up with its
// context.
func TestDriftRendersOneAtATime(t *testing.T) {
	inner := &concurrencyRenderer{}
	b := newBoundRenderer(inner, driftRenders)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := b.Render(context.Background(), fstest.MapFS{}, config.Environment{Name: "prod"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := inner.peak.Load(); got != driftRenders {
		t.Fatalf("%d renders ran at once, want %d", got, driftRenders)
	}

	b.slots <- struct{}{} // a render holds the one slot
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := b.Render(ctx, fstest.MapFS{}, config.Environment{Name: "prod"}); err == nil {
		t.Fatal("a render waiting for the slot did not give up when its context ended")
	}
	<-b.slots

	var o Ops
	if o.driftRenderer() != nil {
		t.Fatal("without a renderer, drift plans must use the planner's own (a nil interface)")
	}
}
