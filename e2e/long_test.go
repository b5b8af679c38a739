package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// A plan too long for one comment is split into continuations, each under
// GitHub's limit (the emulator refuses longer ones) and each valid
// Markdown on its own: fences balanced, <details> closed.
func TestLongPlanSplitsIntoContinuations(t *testing.T) {
	w := newWorld(t, options{})
	files := map[string]string{}
	for i := 0; i < 160; i++ {
		files[fmt.Sprintf("deploy/staging/cm-%03d.yaml", i)] = configMap(fmt.Sprintf("cm-%03d", i), "payload", strings.Repeat(fmt.Sprintf("line %d of a long value ", i), 30))
	}
	n, sha := w.openPR("long", files)
	checks := w.waitPlanned(sha, "staging")
	set := w.planComments(n, sha)
	if len(set) < 2 {
		t.Fatalf("a %d-object plan fit in %d comment(s); want continuations", 160, len(set))
	}
	fence := regexp.MustCompile("(?m)^(`{3,})")
	for i, c := range set {
		if utf8.RuneCountInString(c.Body) > 65536 {
			t.Errorf("part %d has %d characters", i+1, utf8.RuneCountInString(c.Body))
		}
		if !strings.HasPrefix(c.Body, fmt.Sprintf("<!-- tugboat:plan sha=%s part=%d -->", sha, i+1)) {
			t.Errorf("part %d starts with %.80q", i+1, c.Body)
		}
		if len(fence.FindAllString(c.Body, -1))%2 != 0 {
			t.Errorf("part %d has an unclosed code fence", i+1)
		}
		if strings.Count(c.Body, "<details") != strings.Count(c.Body, "</details>") {
			t.Errorf("part %d has an unclosed <details>", i+1)
		}
	}
	all := allBodies(set)
	for i := 0; i < 160; i++ {
		if !strings.Contains(all, fmt.Sprintf("cm-%03d", i)) {
			t.Errorf("object cm-%03d is in no part", i)
		}
	}
	if len(checks["tugboat/staging"].Text) > 65535 {
		t.Errorf("check run text over the limit")
	}

	// The plan gets applied (with `bot apply`, as in disaster recovery): a
	// re-plan of the same commit shows no changes, so the set shrinks in
	// place and the stale continuations are deleted.
	checkout := t.TempDir()
	for name, data := range mergeMaps(baseFiles(w.ns), files) {
		writeFile(t, filepath.Join(checkout, name), data)
	}
	out, err := exec.Command(botBin, "apply", "--repo", checkout, "--config", w.bot.config, "--env", "staging",
		"--repo-name", w.repo, "--yes").CombinedOutput()
	if err != nil {
		t.Fatalf("bot apply: %v\n%s", err, out)
	}
	w.gh.Comment(w.repo, n, "alice", "/plan staging")
	w.waitFor("the re-plan", 60*time.Second, func() bool {
		return w.countChecks(sha, "tugboat/staging") == 2 && w.checks(sha)["tugboat/staging"].Status == "completed"
	})
	after := w.planComments(n, sha)
	if len(after) >= len(set) || after[0].ID != set[0].ID {
		t.Errorf("set of %d parts became %d parts (main comment %d → %d); want it shrunk in place", len(set), len(after), set[0].ID, after[0].ID)
	}
	if len(after) == 1 && strings.Contains(after[0].Body, "Continued in part") {
		t.Errorf("the single remaining part still points at a continuation")
	}
}
