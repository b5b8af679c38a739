package planner

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/internal/benchtest"
)

// botPlanProcess is `bot plan` of a checkout: the repository, its
// .tugboat.yaml naming environment "bench" at path, and a server config
// pointing at the cluster through its kubeconfig, as a user would set it up.
// It runs the real binary (benchtest.BotBinary): a new process that loads
// its config, connects, discovers, renders in its child and plans.
// In-process timings hid that whole-process cost before.
type botPlanProcess struct {
	bin, repo, config, repoName string
	// cacheDir is the process's user cache dir (XDG_CACHE_HOME): the
	// discovery cache lives there and is warm after the first run, as on a
	// user's machine.
	cacheDir string
}

func newBotPlanProcess(b *testing.B, repo, path, kubeconfig, repoName string) *botPlanProcess {
	b.Helper()
	bin, err := benchtest.BotBinary()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(repo, config.RepoFile), []byte(fmt.Sprintf(
		"version: 1\nenvironments:\n  bench:\n    cluster: bench\n    path: %s\n", path)), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "digest.key"), testDigestKey, 0o600); err != nil {
		b.Fatal(err)
	}
	cfg := filepath.Join(dir, "server.yaml")
	if err := os.WriteFile(cfg, []byte("clusters:\n  bench:\n    kubeconfig: "+kubeconfig+"\ndigest_key_file: digest.key\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	return &botPlanProcess{bin: bin, repo: repo, config: cfg, repoName: repoName, cacheDir: filepath.Join(dir, "cache")}
}

// run runs `bot plan -o json` and checks it planned wantUpdates updates
// (exit status 2: changes). With verbose, the process's phase log (render,
// validate, dry-run) is returned.
func (p *botPlanProcess) run(wantUpdates int, verbose bool) (string, error) {
	args := []string{"plan", "--repo", p.repo, "--config", p.config, "--env", "bench", "--repo-name", p.repoName, "-o", "json"}
	if verbose {
		args = append(args, "-v")
	}
	cmd := exec.Command(p.bin, args...)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+p.cacheDir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		return "", fmt.Errorf("bot plan: %v (want exit status 2)\n%s", err, stderr.String())
	}
	var doc struct {
		Plans []struct {
			Counts   Counts `json:"counts"`
			Problems []any  `json:"problems"`
		} `json:"plans"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		return "", fmt.Errorf("bot plan: output: %v", err)
	}
	if len(doc.Plans) != 1 || doc.Plans[0].Counts.Update != wantUpdates || len(doc.Plans[0].Problems) > 0 {
		return "", fmt.Errorf("bot plan: got %+v, want %d updates and no problems", doc.Plans, wantUpdates)
	}
	return stderr.String(), nil
}
