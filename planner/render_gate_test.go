package planner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/tugboatops/tugboat/config"
)

// slowChild is a render child that counts how many of its kind run at once
// (a directory per running child under dir), takes a while, and renders
// nothing. Its PATH is set, since childEnv empties it.
func slowChild(dir string, gate *RenderGate, lim Limits, sleep string) *Renderer {
	script := `cat >/dev/null; d=$(mktemp -d "$DIR/run.XXXXXX"); n=$(ls -d "$DIR"/run.* | wc -l); echo "$n" >> "$DIR/seen"; sleep ` + sleep + `; rmdir "$d"; echo '{"objects":[],"problems":[]}'`
	return &Renderer{Exe: "/bin/sh", Args: []string{"-c", script},
		Env: []string{"PATH=/usr/bin:/bin", "DIR=" + dir}, Limits: lim, Gate: gate}
}

// maxSeen is the most children any child saw running (itself included).
func maxSeen(t *testing.T, dir string) (most, runs int) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "seen"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Fields(string(data)) {
		runs++
		n := 0
		for _, c := range line {
			n = n*10 + int(c-'0')
		}
		most = max(most, n)
	}
	return most, runs
}

func renderAll(t *testing.T, r *Renderer, n int) {
	t.Helper()
	repo := fstest.MapFS{"a.yaml": {Data: []byte("kind: ConfigMap\n")}}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = r.Render(context.Background(), repo, config.Environment{Name: "test", Path: "."})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
	}
}

func TestRenderGateBoundsRendersAtOnce(t *testing.T) {
	dir := t.TempDir()
	gate := NewRenderGate(2, 1<<40)
	// Two renderers (two planners, say) share the one gate.
	a, b := slowChild(dir, gate, Limits{}, "0.3"), slowChild(dir, gate, Limits{}, "0.3")
	var wg sync.WaitGroup
	for _, r := range []*Renderer{a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); renderAll(t, r, 3) }()
	}
	wg.Wait()
	most, runs := maxSeen(t, dir)
	if runs != 6 || most != 2 {
		t.Errorf("6 renders through a gate of 2: %d ran, at most %d at once; want 6 and 2", runs, most)
	}
}

func TestRenderGateBoundsBufferedBytes(t *testing.T) {
	dir := t.TempDir()
	lim := Limits{MaxRepoBytes: 1 << 20} // output bound 5 MiB
	// Slots for all, bytes for one render's output bound and a half.
	gate := NewRenderGate(8, lim.withDefaults().maxOutputBytes()*3/2)
	renderAll(t, slowChild(dir, gate, lim, "0.2"), 3)
	if most, runs := maxSeen(t, dir); runs != 3 || most != 1 {
		t.Errorf("3 renders, budget for one output: %d ran, at most %d at once; want 3 and 1", runs, most)
	}
}

func TestRenderGateWaitHonoursContext(t *testing.T) {
	dir := t.TempDir()
	gate := NewRenderGate(1, 1<<40)
	r := slowChild(dir, gate, Limits{}, "2")
	repo := fstest.MapFS{"a.yaml": {Data: []byte("kind: ConfigMap\n")}}
	env := config.Environment{Name: "staging", Path: "."}
	holding := make(chan error, 1)
	go func() { _, _, err := r.Render(context.Background(), repo, env); holding <- err }()
	// Wait until the first render holds the slot (its child runs).
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if m, _ := filepath.Glob(filepath.Join(dir, "run.*")); len(m) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first render never started")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := r.Render(ctx, repo, env)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "render staging: wait for one of the 1 render slots") {
		t.Fatalf("second render: err = %v, want the wait's deadline", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("second render gave up after %s, want at its 200ms deadline", d)
	}
	if err := <-holding; err != nil {
		t.Fatalf("first render: %v", err)
	}
	if _, runs := maxSeen(t, dir); runs != 1 {
		t.Errorf("%d children ran, want 1: the render that gave up must not start one", runs)
	}
}

func TestRenderGateDefaultsFollowMemory(t *testing.T) {
	for _, tc := range []struct {
		mem         int64
		cpus        int
		renders     int
		bufferBytes int64
	}{
		{512 << 20, 16, 1, DefaultLimits().maxOutputBytes()},
		{2 << 30, 16, 2, 512 << 20},
		{6 << 30, 16, 6, 1536 << 20},
		{64 << 30, 16, 8, 16 << 30},
		{24 << 30, 2, 2, 6 << 30},
		{24 << 30, 1, 2, 6 << 30},
		{24 << 30, 4, 4, 6 << 30},
	} {
		r, b := RenderGateDefaults(tc.mem, tc.cpus)
		if r != tc.renders || b != tc.bufferBytes {
			t.Errorf("RenderGateDefaults(%s, %d CPUs) = %d, %s; want %d, %s", byteSize(tc.mem), tc.cpus, r, byteSize(b), tc.renders, byteSize(tc.bufferBytes))
		}
	}
	if MemoryLimit() <= 0 {
		t.Error("MemoryLimit() found no memory on Linux")
	}
}
