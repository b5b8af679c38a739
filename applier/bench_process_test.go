package applier

import (
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
	"github.com/tugboatops/tugboat/internal/kubetest"
)

// botApplyProcess runs `bot apply --yes` of docs (a checkout whose
// .tugboat.yaml has environment "bench" waiting up to 15 minutes) against
// c, through c's kubeconfig as a user would, and returns its wall time.
func botApplyProcess(ctx context.Context, b *testing.B, c *kubetest.Cluster, docs []string) (time.Duration, error) {
	b.Helper()
	bin, err := benchtest.BotBinary()
	if err != nil {
		return 0, err
	}
	dir := b.TempDir()
	repo := filepath.Join(dir, "repo")
	if err := os.MkdirAll(filepath.Join(repo, "deploy"), 0o755); err != nil {
		return 0, err
	}
	files := map[string]string{
		filepath.Join(repo, config.RepoFile):   "version: 1\nenvironments:\n  bench:\n    cluster: bench\n    path: deploy\n    wait: 15m\n",
		filepath.Join(repo, "deploy/all.yaml"): strings.Join(docs, "\n---\n"),
		filepath.Join(dir, "digest.key"):       "bench-digest-key-bench-digest-k",
		filepath.Join(dir, "server.yaml"):      "clusters:\n  bench:\n    kubeconfig: " + c.Kubeconfig() + "\ndigest_key_file: digest.key\n",
	}
	for name, content := range files {
		if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
			return 0, err
		}
	}
	cmd := exec.CommandContext(ctx, bin, "apply", "--repo", repo, "--config", filepath.Join(dir, "server.yaml"),
		"--env", "bench", "--repo-name", "acme/bench", "--yes")
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(t0)
	if err != nil {
		return 0, fmt.Errorf("bot apply: %v\n%s", err, tail(string(out)))
	}
	return took, nil
}
