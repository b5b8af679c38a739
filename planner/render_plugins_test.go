package planner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// TestRenderKustomizePluginsOff: a repository is untrusted input, and a
// Kustomize plugin is a program. A kustomization that names an exec or Go
// plugin (legacy generators/transformers, installed where Kustomize looks
// for them) or a KRM function (exec or container) gets a problem that says
// plugins are off — and nothing runs.
func TestRenderKustomizePluginsOff(t *testing.T) {
	home := t.TempDir()
	marker := filepath.Join(t.TempDir(), "ran")
	script := "#!/bin/sh\ntouch " + marker + "\ncat <<'E'\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-plugin}\nE\n"
	// The legacy exec plugin, installed where Kustomize would look for it
	// if plugins were on.
	exe := filepath.Join(home, "example.com", "v1", "secretsfromvault", "SecretsFromVault")
	if err := os.MkdirAll(filepath.Dir(exe), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	// A Go plugin beside it: an .so is looked up the same way.
	if err := os.WriteFile(filepath.Join(filepath.Dir(exe), "SecretsFromVault.so"), []byte("not really a plugin"), 0o644); err != nil {
		t.Fatal(err)
	}
	krmExe := filepath.Join(home, "krm-fn")
	if err := os.WriteFile(krmExe, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUSTOMIZE_PLUGIN_HOME", home)
	t.Setenv("XDG_CONFIG_HOME", home)

	legacy := "apiVersion: example.com/v1\nkind: SecretsFromVault\nmetadata: {name: vault}\n"
	krmExec := "apiVersion: example.com/v1\nkind: Render\nmetadata:\n  name: render\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: " + krmExe + "\n"
	krmContainer := "apiVersion: example.com/v1\nkind: Render\nmetadata:\n  name: render\n  annotations:\n    config.kubernetes.io/function: |\n      container:\n        image: registry.example/render:v1\n"
	for name, tc := range map[string]struct{ field, config string }{
		"exec/Go generator":   {"generators", legacy},
		"exec/Go transformer": {"transformers", legacy},
		"KRM exec function":   {"generators", krmExec},
		"KRM container":       {"transformers", krmContainer},
	} {
		t.Run(name, func(t *testing.T) {
			repo := fstest.MapFS{
				"deploy/kustomization.yaml": {Data: []byte("resources: [cm.yaml]\n" + tc.field + ": [plugin.yaml]\n")},
				"deploy/cm.yaml":            {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\n")},
				"deploy/plugin.yaml":        {Data: []byte(tc.config)},
			}
			for _, mode := range []string{"in process", "render child"} {
				var objs []Object
				var probs []Problem
				if mode == "in process" {
					objs, probs = RenderInProcess(repo, "deploy", DefaultLimits())
				} else {
					objs, probs, _ = renderChild(t, repo, "deploy", DefaultLimits())
				}
				if len(objs) != 0 {
					t.Errorf("%s: rendered %v despite the plugin", mode, described(objs))
				}
				got := strings.Join(problemStrings(probs), "\n")
				t.Logf("%s: %s", mode, got)
				if len(probs) != 1 || !strings.HasPrefix(got, "deploy/kustomization.yaml") || !strings.Contains(got, "external plugins disabled") {
					t.Errorf("%s: problems:\n%s\nwant one at deploy/kustomization.yaml saying plugins are off", mode, got)
				}
				if _, err := os.Stat(marker); err == nil {
					t.Fatalf("%s: the plugin ran", mode)
				}
			}
		})
	}
}
