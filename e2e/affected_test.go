package e2e

import (
	"testing"
)

// Environments are affected when their render changes, even if no file
// under their path did (a Kustomize base they share); a PR that changes
// nothing any environment renders gets no plan and no comment, only a
// skipped "tugboat" run saying so.
func TestAffectedByRenderNotJustPath(t *testing.T) {
	kustomize := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../base]\n"
	w := newWorld(t, options{files: map[string]string{
		"deploy/base/kustomization.yaml":    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [cm.yaml]\n",
		"deploy/base/cm.yaml":               configMap("shared", "color", "blue"),
		"deploy/staging/kustomization.yaml": kustomize,
		"deploy/prod/kustomization.yaml":    kustomize,
		"deploy/staging/app.yaml":           "",
		"deploy/prod/app.yaml":              "",
		"deploy/unused/cm.yaml":             configMap("unused", "k", "v"),
	}})
	n, sha := w.openPR("base", map[string]string{"deploy/base/cm.yaml": configMap("shared", "color", "green")})
	checks := w.waitPlanned(sha, "staging", "prod")
	for _, env := range []string{"staging", "prod"} {
		if c := checks["tugboat/"+env]; c.Conclusion == "failure" {
			t.Errorf("%s failed: %s", env, c.Summary)
		}
	}
	if len(w.planComments(n, sha)) != 1 {
		t.Errorf("no plan comment")
	}

	m, sha2 := w.openPR("unrelated", map[string]string{"deploy/unused/cm.yaml": configMap("unused", "k", "changed"), "README.md": "# changed\n"})
	waitIdle(t, w)
	// One completed "tugboat" run (skipped) marks the head as looked at,
	// so no replica and no resync plans it again.
	if got := w.gh.CheckRuns(w.repo, sha2); len(got) != 1 || got[0].Name != "tugboat" || got[0].Conclusion != "skipped" ||
		got[0].Title != "No environment affected" {
		t.Errorf("a PR affecting no environment got check runs: %+v; want one skipped tugboat run", got)
	}
	if got := w.botComments(m); len(got) != 0 {
		t.Errorf("a PR affecting no environment got comments: %+v", got)
	}
}
