package planner

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/tugboatops/tugboat/config"
)

// The render child's peak memory is measured (its own process, which the
// bot's heap never shows), and it grows with what the child renders.
func TestRendererReportsChildPeakRSS(t *testing.T) {
	lim := DefaultLimits()
	lim.Timeout = 2 * time.Minute // a loaded machine must not make this a time-limit test
	r := testRenderer(t, lim)
	if got := r.PeakChildRSS(); got != 0 {
		t.Fatalf("PeakChildRSS before any render = %d", got)
	}
	small := fstest.MapFS{"app/cm.yaml": {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: n}\n")}}
	if _, probs, err := r.Render(context.Background(), small, config.Environment{Name: "test", Path: "app"}); err != nil || len(probs) > 0 {
		t.Fatalf("render: %v %v", err, probs)
	}
	first := r.PeakChildRSS()
	// A Go process holding the runtime and the decoded request is at least
	// a few MiB, and far below the child's memory limit.
	if first < 4<<20 || first > DefaultLimits().MemoryBytes {
		t.Fatalf("PeakChildRSS after a small render = %d bytes", first)
	}

	// 2,000 objects of 8 KiB make the child hold well over 8 MiB more.
	var docs []string
	for i := range 2000 {
		docs = append(docs, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c%d, namespace: n}\ndata: {v: %q}\n", i, strings.Repeat("x", 8<<10)))
	}
	big := fstest.MapFS{"app/cm.yaml": {Data: []byte(strings.Join(docs, "---\n"))}}
	if _, probs, err := r.Render(context.Background(), big, config.Environment{Name: "test", Path: "app"}); err != nil || len(probs) > 0 {
		t.Fatalf("render: %v %v", err, probs)
	}
	if got := r.PeakChildRSS(); got < first+8<<20 {
		t.Fatalf("PeakChildRSS after a 16 MiB render = %d bytes, after a tiny one %d", got, first)
	}
	// A smaller render afterwards does not lower the peak.
	peak := r.PeakChildRSS()
	if _, _, err := r.Render(context.Background(), small, config.Environment{Name: "test", Path: "app"}); err != nil {
		t.Fatal(err)
	}
	if got := r.PeakChildRSS(); got != peak {
		t.Fatalf("PeakChildRSS went from %d to %d after a smaller render", peak, got)
	}
}
