package applier

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/internal/benchtest"
)

// botApplyRun is one `bot apply --yes` process: its wall time, and when
// its output showed each phase, for profiling it from outside.
type botApplyRun struct {
	took time.Duration
	// shown: the first plan was printed ("## Applying"); firstWrite and
	// lastWrite: the first and last "apply" progress line; lastWait: the
	// last "wait" progress line. Each is measured from the process start.
	shown, firstWrite, lastWrite, lastWait time.Duration
	// cpu is the CPU time the process (and its render child) used: on a
	// machine of few cores, the controllers that roll the Deployments out
	// compete with it for the same CPUs.
	cpu time.Duration
}

// phases describes the run's phases in seconds.
func (r botApplyRun) phases() string {
	return fmt.Sprintf("start+config+plan %.1fs, re-plan+checks+record %.1fs, writes %.1fs, wait %.1fs, end %.1fs (total %.1fs, cpu %.1fs)",
		r.shown.Seconds(), (r.firstWrite - r.shown).Seconds(), (r.lastWrite - r.firstWrite).Seconds(),
		(r.lastWait - r.lastWrite).Seconds(), (r.took - r.lastWait).Seconds(), r.took.Seconds(), r.cpu.Seconds())
}

// botApplyProcess runs `bot apply --yes` of docs (a checkout whose
// .tugboat.yaml has environment "bench" waiting up to 15 minutes) against
// the cluster of kubeconfig, as a user would, and returns its wall time and
// phases.
func botApplyProcess(ctx context.Context, b *testing.B, kubeconfig string, docs []string) (botApplyRun, error) {
	b.Helper()
	var run botApplyRun
	bin, err := benchtest.BotBinary()
	if err != nil {
		return run, err
	}
	dir := b.TempDir()
	repo := filepath.Join(dir, "repo")
	if err := os.MkdirAll(filepath.Join(repo, "deploy"), 0o755); err != nil {
		return run, err
	}
	files := map[string]string{
		filepath.Join(repo, config.RepoFile):   "version: 1\nenvironments:\n  bench:\n    cluster: bench\n    path: deploy\n    wait: 15m\n",
		filepath.Join(repo, "deploy/all.yaml"): strings.Join(docs, "\n---\n"),
		filepath.Join(dir, "digest.key"):       "bench-digest-key-bench-digest-k",
		filepath.Join(dir, "server.yaml"):      "clusters:\n  bench:\n    kubeconfig: " + kubeconfig + "\ndigest_key_file: digest.key\n",
	}
	for name, content := range files {
		if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
			return run, err
		}
	}
	cmd := exec.CommandContext(ctx, bin, "apply", "--repo", repo, "--config", filepath.Join(dir, "server.yaml"),
		"--env", "bench", "--repo-name", "acme/bench", "--yes")
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return run, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	var out strings.Builder
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return run, err
	}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		at, line := time.Since(t0), sc.Text()
		out.WriteString(line + "\n")
		switch {
		case strings.HasPrefix(line, "## Applying"):
			run.shown = at
		case strings.HasPrefix(line, "  apply "):
			if run.firstWrite == 0 {
				run.firstWrite = at
			}
			run.lastWrite = at
		case strings.HasPrefix(line, "  wait "):
			run.lastWait = at
		}
	}
	err = cmd.Wait()
	run.took = time.Since(t0)
	if cmd.ProcessState != nil {
		run.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if err != nil {
		return run, fmt.Errorf("bot apply: %v\n%s%s", err, tail(out.String()), tail(stderr.String()))
	}
	return run, nil
}
