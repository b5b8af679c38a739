package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/internal/githubtest"
)

// A PR bringing a .tugboat.yaml over 1 MiB (with a syntax error at its
// end, which tugboat once searched for line by line, for hours) gets a
// failed tugboat/config saying the file is too large, and its environments
// are still planned from the base branch's config.
func TestOversizedConfigRefused(t *testing.T) {
	w := newWorld(t, options{})
	big := "version: 1\nenvironments:\n  staging:\n    cluster: staging\n    path: deploy/staging\n" +
		strings.Repeat("    # padding padding padding padding padding padding padding padding\n", 2<<20/70) +
		"   apply: auto\n"
	_, sha := w.openPR("big-cfg", map[string]string{
		".tugboat.yaml":           big,
		"deploy/staging/app.yaml": configMap("app", "color", "green"),
	})
	w.waitPlanned(sha, "staging")
	var cfg githubtest.CheckRun
	w.waitFor("tugboat/config", 30*time.Second, func() bool { cfg = w.checks(sha)["tugboat/config"]; return cfg.Status == "completed" })
	if cfg.Conclusion != "failure" || !strings.Contains(cfg.Summary, "file is 2 MiB, over the 1 MiB limit") {
		t.Fatalf("tugboat/config = %s, summary:\n%.500s", cfg.Conclusion, cfg.Summary)
	}
}
