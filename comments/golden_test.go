package comments

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

// golden compares parts with testdata/golden/<name>.md (one part) or
// <name>.part-N.md (several), rewriting them with -update.
func golden(t *testing.T, name string, parts []string) {
	t.Helper()
	files := map[string]string{}
	if len(parts) == 1 {
		files[name+".md"] = parts[0]
	} else {
		for i, p := range parts {
			files[fmt.Sprintf("%s.part-%d.md", name, i+1)] = p
		}
	}
	dir := filepath.Join("testdata", "golden")
	if *update {
		old, _ := filepath.Glob(filepath.Join(dir, name+".part-*.md"))
		for _, f := range append(old, filepath.Join(dir, name+".md")) {
			_ = os.Remove(f)
		}
		for f, body := range files {
			if err := os.WriteFile(filepath.Join(dir, f), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	existing, _ := filepath.Glob(filepath.Join(dir, name+".part-*.md"))
	if len(parts) > 1 && len(existing) != len(parts) {
		t.Errorf("%s: %d parts rendered, %d golden files", name, len(parts), len(existing))
	}
	for f, body := range files {
		want, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if string(want) != body {
			t.Errorf("%s differs from the golden file (go test -update rewrites it); got:\n%s", f, body)
		}
	}
}

func TestGoldenPlanComments(t *testing.T) {
	for name, in := range map[string]PlanComment{
		"two-env":      twoEnvPlan(),
		"problems":     problemPlan(),
		"drift-danger": driftDangerPlan(),
		"huge":         hugePlan(150),
		"adopt":        adoptPlan(),
	} {
		t.Run(name, func(t *testing.T) {
			parts := RenderPlanComments(in)
			for _, p := range parts {
				renderMarkdown(t, p)
			}
			golden(t, name, parts)
		})
	}
}

func TestGoldenCheckRun(t *testing.T) {
	for name, in := range map[string]PlanComment{
		"checkrun-drift-danger": driftDangerPlan(),
		"checkrun-adopt":        adoptPlan(),
	} {
		t.Run(name, func(t *testing.T) {
			cr := CheckRunOutput(in.Envs[0].Plan, ApplyOnComment, "https://github.com/acme/platform/pull/44#issuecomment-1")
			body := fmt.Sprintf("conclusion: %s\ntitle: %s\nannotations: %+v\n\n## summary\n\n%s\n## text\n\n%s",
				cr.Conclusion, cr.Title, cr.Annotations, cr.Summary, cr.Text)
			golden(t, name, []string{body})
		})
	}
}
