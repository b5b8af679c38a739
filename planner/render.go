package planner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/internal/panics"
)

// Object is one rendered manifest and where it came from.
type Object struct {
	Obj    *unstructured.Unstructured
	Source Location
}

// Renderer renders an environment's path in a child process, because krusty
// takes no context and a hostile repository can make it run long or allocate
// without bound. Exe and Args re-execute a binary whose entry point calls
// RunRenderChild (the bot's hidden `__render` subcommand; in tests, the test
// binary itself with TUGBOAT_RENDER_CHILD=1 in Env).
type Renderer struct {
	Exe  string
	Args []string
	// Env is added to the child's environment. The child gets nothing else
	// of the bot's environment (which may hold credentials).
	Env    []string
	Limits Limits
	// Gate bounds the renders of the whole process (shared by every
	// Renderer in it); nil: unbounded, for tools that render one at a time.
	Gate *RenderGate
	// Clusters gives Helm renders the target cluster's version and API
	// groups for .Capabilities; nil: Helm's defaults (tests, tools
	// without clusters).
	Clusters ClusterSource

	peakRSS atomic.Int64 // see PeakChildRSS
}

// watchdogInterval is how often the parent samples the child's resident
// memory. At 512 MiB and a fast allocator, 20 ms lets a child overshoot by
// a few tens of MiB at most, which the parent's budget tolerates.
const watchdogInterval = 20 * time.Millisecond

// Render renders env.Path of repo (or env.Helm's chart). Problems with the repository (invalid
// YAML, a URL resource, a limit hit) are returned as Problems; the error is
// for failures of the planner itself (the child could not be started, or
// the caller's context ended).
func (r *Renderer) Render(ctx context.Context, repo fs.FS, env config.Environment) ([]Object, []Problem, error) {
	lim := r.Limits.withDefaults()
	var hr *HelmRender
	if env.Helm != nil {
		var prob *Problem
		if hr, prob = r.helmRender(ctx, env); prob != nil {
			return nil, []Problem{*prob}, nil
		}
	}
	files, err := listRepo(repo, lim)
	if err != nil {
		return nil, []Problem{limitProblem(err, env.Sources()[0])}, nil
	}
	maxOut := lim.maxOutputBytes()
	// Held until the output is decoded: the buffer is what the gate counts.
	release, err := r.Gate.acquire(ctx, maxOut)
	if err != nil {
		return nil, nil, fmt.Errorf("render %s: %w", env.Name, err)
	}
	defer release()

	runCtx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	cmd := exec.CommandContext(runCtx, r.Exe, r.Args...)
	cmd.Env = childEnv(lim, r.Env)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true,            // so a kill reaches anything the child started
		Pdeathsig: syscall.SIGKILL, // and the child dies with the bot
	}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, fmt.Errorf("render %s: %w", env.Name, err)
	}
	stdout := &limitedBuffer{max: maxOut}
	stderr := &limitedBuffer{max: 16 << 10}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("render %s: start render child %s: %w", env.Name, r.Exe, err)
	}

	var overMemory atomic.Bool
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(2)
	var watchErr, writeErr error
	go func() {
		defer wg.Done()
		defer func() {
			if watchErr != nil {
				// Unwatched, the child must not go on.
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			}
		}()
		defer panics.Recover(ctx, &watchErr)
		watchMemory(cmd.Process.Pid, lim.MemoryBytes, done, func() {
			overMemory.Store(true)
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		})
	}()
	go func() {
		defer wg.Done()
		defer stdin.Close() // after a crash too: the child must not wait for more
		defer panics.Recover(ctx, &writeErr)
		writeErr = writeRequest(stdin, repo, files, env.Path, hr, lim)
	}()
	waitErr := cmd.Wait()
	r.notePeakRSS(cmd.ProcessState)
	close(done)
	wg.Wait()

	switch {
	case overMemory.Load():
		return nil, []Problem{{Message: fmt.Sprintf("render killed: exceeded the %s memory limit", byteSize(lim.MemoryBytes))}}, nil
	case ctx.Err() != nil:
		return nil, nil, fmt.Errorf("render %s: %w", env.Name, ctx.Err())
	case panics.Is(watchErr):
		return nil, nil, fmt.Errorf("render %s: watch the render child's memory: %w", env.Name, watchErr)
	case panics.Is(writeErr):
		return nil, nil, fmt.Errorf("render %s: send the repository to the render child: %w", env.Name, writeErr)
	case runCtx.Err() != nil:
		return nil, []Problem{{Message: fmt.Sprintf("render killed: exceeded the %s time limit", lim.Timeout)}}, nil
	case stdout.overflow:
		return nil, []Problem{{Message: errOutputTooBig(maxOut).Error()}}, nil
	case waitErr != nil:
		if isOutOfMemory(stderr.String()) {
			return nil, []Problem{{Message: fmt.Sprintf("render killed: exceeded the %s memory limit", byteSize(lim.MemoryBytes))}}, nil
		}
		var le *limitError
		if errors.As(writeErr, &le) {
			return nil, []Problem{{Message: le.msg}}, nil
		}
		return nil, nil, fmt.Errorf("render %s: render child failed after %s (%v)%s", env.Name, time.Since(start).Round(time.Millisecond), waitErr, crashSummary(stderr.String()))
	}
	objs, probs, err := decodeResponse(stdout.Bytes())
	if err != nil {
		return nil, nil, fmt.Errorf("render %s: %w", env.Name, err)
	}
	return objs, probs, nil
}

// childEnv is the render child's whole environment. GOMEMLIMIT makes the
// Go runtime collect hard before the watchdog's limit; the empty PATH means
// krusty cannot find git (or anything else) to run; the dead proxy catches
// any HTTP fetch the pre-scan missed.
func childEnv(lim Limits, extra []string) []string {
	env := []string{
		"PATH=",
		"HOME=/nonexistent",
		"GOMEMLIMIT=" + strconv.FormatInt(lim.MemoryBytes*3/4, 10),
		"GOTRACEBACK=none",
		"HTTP_PROXY=http://127.0.0.1:9",
		"HTTPS_PROXY=http://127.0.0.1:9",
		"NO_PROXY=",
	}
	return append(env, extra...)
}

// watchMemory kills the child (via kill) once its resident set exceeds max.
// RLIMIT_AS alone cannot do this well for a Go program, whose runtime
// reserves far more address space than it touches.
func watchMemory(pid int, max int64, done <-chan struct{}, kill func()) {
	t := time.NewTicker(watchdogInterval)
	defer t.Stop()
	statusFile := "/proc/" + strconv.Itoa(pid) + "/status"
	for {
		select {
		case <-done:
			return
		case <-t.C:
			if rss, ok := residentBytes(statusFile); ok && rss > max {
				kill()
				return
			}
		}
	}
}

// residentBytes reads VmRSS from a /proc/PID/status file.
func residentBytes(statusFile string) (int64, bool) {
	data, err := os.ReadFile(statusFile)
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}

func isOutOfMemory(stderr string) bool {
	return strings.Contains(stderr, "out of memory") || strings.Contains(stderr, "cannot allocate memory")
}

// crashSummary keeps only the first line of a crashed child's stderr (the
// Go runtime's "panic: …" or "fatal error: …"), shortened: the rest could
// quote repository content, which may include Secret values.
func crashSummary(stderr string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(stderr), "\n")
	if first == "" {
		return ""
	}
	if len(first) > 200 {
		first = first[:200] + "…"
	}
	return ": " + first
}

// limitedBuffer keeps at most max bytes and remembers whether more came.
// It never fails a write, so the child is not killed by SIGPIPE before the
// parent can tell "too much output" from a crash.
type limitedBuffer struct {
	bytes.Buffer
	max      int64
	overflow bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	room := b.max - int64(b.Len())
	if int64(len(p)) > room {
		b.overflow = true
		if room > 0 {
			b.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return b.Buffer.Write(p)
}

var _ io.Writer = (*limitedBuffer)(nil)

// helmRender is what the child needs to render env's chart, with the
// target cluster's capabilities when the Renderer knows its clusters. A
// cluster that cannot be asked is a problem: rendered with Helm's
// defaults instead, a chart could plan objects the cluster cannot take.
func (r *Renderer) helmRender(ctx context.Context, env config.Environment) (*HelmRender, *Problem) {
	hr := &HelmRender{Helm: *env.Helm, Namespace: env.Namespace}
	if r.Clusters == nil {
		return hr, nil
	}
	c, err := r.Clusters.Cluster(env.Cluster)
	if err != nil {
		return nil, &Problem{Message: err.Error()}
	}
	caps, err := clusterCapabilities(ctx, c.Discovery)
	if err != nil {
		return nil, &Problem{Message: fmt.Sprintf("helm: cannot render without cluster %s's version and API groups (for .Capabilities): %v", env.Cluster, err)}
	}
	hr.Capabilities = caps
	return hr, nil
}
