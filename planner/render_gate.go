package planner

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sync/semaphore"
)

// RenderGate bounds the renders a whole process runs at once, however many
// planners, pull requests and environments ask for them: each render is a
// child process of up to Limits.MemoryBytes, and its output is buffered in
// the bot (up to Limits' output bound, 257 MiB by default) before it is
// decoded. Without a process-wide bound, the webhook workers times the
// environments planned at once times that is the bot's peak memory.
//
// A render takes one of the gate's slots and reserves its whole output
// bound from the gate's byte budget before its child starts, and gives
// both back once its output is decoded. Reserving the worst case rather
// than growing the reservation as output arrives means renders can never
// deadlock holding half of what they need; the price is fewer renders at
// once when the repository limit is set very high. Waiters are served in
// order and honour their context. Share one gate by giving every Renderer
// of the process the same pointer.
type RenderGate struct {
	renders     int
	bufferBytes int64
	slots       *semaphore.Weighted
	bytes       *semaphore.Weighted
}

// NewRenderGate returns a gate letting at most renders renders run at once,
// buffering at most bufferBytes of their output in all. A render whose
// output bound exceeds bufferBytes reserves the whole budget (it runs
// alone) rather than never running. Zero or negative values take the
// defaults for this process's memory (RenderGateDefaults).
func NewRenderGate(renders int, bufferBytes int64) *RenderGate {
	dr, db := RenderGateDefaults(MemoryLimit(), runtime.GOMAXPROCS(0))
	if renders <= 0 {
		renders = dr
	}
	if bufferBytes <= 0 {
		bufferBytes = db
	}
	return &RenderGate{
		renders: renders, bufferBytes: bufferBytes,
		slots: semaphore.NewWeighted(int64(renders)),
		bytes: semaphore.NewWeighted(bufferBytes),
	}
}

// Renders is how many renders may run at once.
func (g *RenderGate) Renders() int { return g.renders }

// BufferBytes is how many bytes of render output may be buffered at once.
func (g *RenderGate) BufferBytes() int64 { return g.bufferBytes }

// acquire waits for a slot and for want bytes of the budget (clipped to the
// budget), and returns the function that gives them back.
func (g *RenderGate) acquire(ctx context.Context, want int64) (release func(), err error) {
	if g == nil {
		return func() {}, nil
	}
	want = min(want, g.bufferBytes)
	if err := g.slots.Acquire(ctx, 1); err != nil {
		return nil, fmt.Errorf("wait for one of the %d render slots: %w", g.renders, err)
	}
	if err := g.bytes.Acquire(ctx, want); err != nil {
		g.slots.Release(1)
		return nil, fmt.Errorf("wait for %s of the %s render output budget: %w", byteSize(want), byteSize(g.bufferBytes), err)
	}
	return func() {
		g.bytes.Release(want)
		g.slots.Release(1)
	}, nil
}

// renderMemoryEach is what one render may cost the machine at worst with
// the default limits: its child (512 MiB) plus its buffered output and the
// decoded objects in the bot.
const renderMemoryEach = 1 << 30

// maxDefaultRenders caps the default slots: beyond a few renders at once,
// the bot's CPU, not memory, is what runs out.
const maxDefaultRenders = 8

// RenderGateDefaults derives the gate's defaults from the memory the
// process may use (mem, in bytes; 0 when unknown) and its CPUs: one render
// per GiB, from 1 to 8, and no more than max(cpus, 2) — renders beyond the
// CPUs only slow each other down towards their time limit — and a quarter
// of the memory for buffered output (at least one default render's output
// bound).
func RenderGateDefaults(mem int64, cpus int) (renders int, bufferBytes int64) {
	if mem <= 0 {
		mem = 4 << 30
	}
	renders = int(min(max(mem/renderMemoryEach, 1), maxDefaultRenders, int64(max(cpus, 2))))
	bufferBytes = max(mem/4, DefaultLimits().maxOutputBytes())
	return renders, bufferBytes
}

// MemoryLimit is the memory this process may use: its cgroup's limit (v2,
// then v1) when it has one, else the machine's memory; 0 when neither can
// be read (not Linux).
func MemoryLimit() int64 {
	total := procMemTotal()
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
		if err != nil { // "max": no limit
			continue
		}
		// cgroup v1 reports "no limit" as a huge number.
		if total == 0 || n < total {
			return n
		}
	}
	return total
}

// procMemTotal reads MemTotal from /proc/meminfo; 0 when it cannot.
func procMemTotal() int64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
