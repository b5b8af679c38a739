package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/internal/githubtest"
)

// A PR behind its base is planned as merged: a change made on the base
// after the PR branched shows as its new value, never as a revert.
func TestBehindBasePlansTheMergeResult(t *testing.T) {
	w := newWorld(t, options{})
	w.gh.Branch(w.repo, "behind", "main")
	w.gh.Commit(w.repo, "main", map[string]string{"deploy/staging/app.yaml": configMap("app", "color", "base-moved-on")}, "base change")
	n, sha := w.openPR("behind", map[string]string{"deploy/staging/new.yaml": configMap("new", "k", "from-pr")})
	checks := w.waitPlanned(sha, "staging")
	body := allBodies(w.planComments(n, sha))
	if !strings.Contains(body, "base-moved-on") || !strings.Contains(body, "from-pr") {
		t.Errorf("plan is not of the merge result:\n%s", body)
	}
	if strings.Contains(body, `"blue"`) || strings.Contains(checks["tugboat/staging"].Text, `"blue"`) {
		t.Errorf("plan shows the PR branch's stale value (a revert of the base change):\n%s", body)
	}
	if _, ok := checks["tugboat/prod"]; ok {
		t.Errorf("prod is not affected, yet got a check run")
	}
	if !strings.Contains(body, "prod") {
		t.Errorf("the comment should list prod as unaffected:\n%s", body)
	}
}

// A conflicting PR gets a comment saying so and no plan.
func TestConflictingPRGetsExplanation(t *testing.T) {
	w := newWorld(t, options{})
	w.gh.Branch(w.repo, "conflict", "main")
	w.gh.Commit(w.repo, "main", map[string]string{"deploy/staging/app.yaml": configMap("app", "color", "main-color")}, "main")
	n, sha := w.openPR("conflict", map[string]string{"deploy/staging/app.yaml": configMap("app", "color", "pr-color")})
	w.waitFor("the conflict note", 60*time.Second, func() bool {
		return strings.Contains(allBodies(w.botComments(n)), "merge conflicts")
	})
	waitIdle(t, w)
	if runs := w.gh.CheckRuns(w.repo, sha); len(runs) != 0 {
		t.Errorf("a conflicting PR got check runs: %+v", runs)
	}
	if set := w.planComments(n, sha); len(set) != 0 {
		t.Errorf("a conflicting PR got a plan")
	}
	if c := w.botComments(n); len(c) != 1 || !strings.Contains(c[0].Body, sha[:7]) {
		t.Errorf("want one note naming the head commit, got %+v", c)
	}
}

// An invalid manifest fails the environment's check with an annotation at
// the file and line.
func TestInvalidManifestAnnotated(t *testing.T) {
	w := newWorld(t, options{})
	_, sha := w.openPR("broken", map[string]string{
		"deploy/staging/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata:\n  a: [unclosed\n",
	})
	checks := w.waitPlanned(sha, "staging")
	st := checks["tugboat/staging"]
	if st.Conclusion != "failure" {
		t.Fatalf("staging conclusion = %q, want failure", st.Conclusion)
	}
	found := false
	for _, a := range st.Annotations {
		if a["path"] == "deploy/staging/bad.yaml" && a["annotation_level"] == "failure" {
			line, _ := a["start_line"].(float64)
			found = line == 6 || line == 7
			if !found {
				t.Errorf("annotation at line %v, want 6 (the unclosed flow sequence)", a["start_line"])
			}
		}
	}
	if !found {
		t.Errorf("no failure annotation on deploy/staging/bad.yaml: %+v", st.Annotations)
	}
}

// A PR editing .tugboat.yaml gets it validated on tugboat/config, problems
// annotated, and the plan notes it applies after merge.
func TestConfigChangeValidated(t *testing.T) {
	w := newWorld(t, options{})
	n, sha := w.openPR("cfg", map[string]string{
		".tugboat.yaml":           "version: 1\nenvironments:\n  staging:\n    cluster: staging\n    path: deploy/staging\n    apply: sometimes\n",
		"deploy/staging/app.yaml": configMap("app", "color", "green"),
	})
	w.waitPlanned(sha, "staging")
	var cfg githubtest.CheckRun
	w.waitFor("tugboat/config", 30*time.Second, func() bool { cfg = w.checks(sha)["tugboat/config"]; return cfg.Status == "completed" })
	if cfg.Conclusion != "failure" || len(cfg.Annotations) == 0 || cfg.Annotations[0]["path"] != ".tugboat.yaml" {
		t.Errorf("tugboat/config = %s with %+v, want failure annotated on .tugboat.yaml", cfg.Conclusion, cfg.Annotations)
	} else if line, _ := cfg.Annotations[0]["start_line"].(float64); line != 6 {
		t.Errorf("annotation at line %v, want 6 (apply: sometimes)", line)
	}
	body := allBodies(w.planComments(n, sha))
	if !strings.Contains(strings.ToLower(body), "after") || !strings.Contains(body, ".tugboat.yaml") {
		t.Errorf("comment does not say the config change applies after merge:\n%s", body)
	}
}

// A .tugboat.yaml with thousands of mistakes still gets its tugboat/config
// check run: the summary is clipped to what GitHub accepts (the emulator
// refuses longer ones, as GitHub does).
func TestConfigChangeWithThousandsOfProblems(t *testing.T) {
	w := newWorld(t, options{})
	var cfg strings.Builder
	cfg.WriteString("version: 1\nenvironments:\n  staging:\n    cluster: staging\n    path: deploy/staging\n")
	for i := range 3000 {
		fmt.Fprintf(&cfg, "  env-%04d:\n    cluster: staging\n    path: deploy/staging\n    apply: sometimes\n", i)
	}
	_, sha := w.openPR("cfg-huge", map[string]string{
		".tugboat.yaml":           cfg.String(),
		"deploy/staging/app.yaml": configMap("app", "color", "green"),
	})
	w.waitPlanned(sha, "staging")
	var run githubtest.CheckRun
	w.waitFor("tugboat/config", 60*time.Second, func() bool { run = w.checks(sha)["tugboat/config"]; return run.Status == "completed" })
	if run.Conclusion != "failure" || len(run.Summary) > 65535 || !strings.Contains(run.Summary, " more: see the annotations") {
		t.Errorf("tugboat/config = %s, summary of %d bytes:\n%.500s", run.Conclusion, len(run.Summary), run.Summary)
	}
}

func allBodies(cs []githubtest.Comment) string {
	var b strings.Builder
	for _, c := range cs {
		b.WriteString(c.Body)
		b.WriteString("\n")
	}
	return b.String()
}
