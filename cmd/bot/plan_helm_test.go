package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `bot plan` of a Helm environment: the chart renders in the bot's own
// render child with the cluster's capabilities, objects point at their
// templates, and the hook is a warning, not a change.
func TestBotPlanHelm(t *testing.T) {
	ns := "e2e-bot-plan-helm"
	dir := t.TempDir()
	repo := filepath.Join(dir, "repo")
	writeTree(t, repo, map[string]string{
		".tugboat.yaml":                 "version: 1\nenvironments:\n  shop:\n    cluster: local\n    namespace: " + ns + "\n    helm:\n      chart: charts/shop\n      values: [charts/shop/values-dev.yaml]\n      set: {color: green}\n",
		"charts/shop/Chart.yaml":        "apiVersion: v2\nname: shop\nversion: 1.0.0\n",
		"charts/shop/values.yaml":       "color: blue\nsize: small\n",
		"charts/shop/values-dev.yaml":   "size: large\n",
		"charts/shop/templates/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ .Release.Namespace }}\n",
		"charts/shop/templates/cm.yaml": "# settings\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\ndata:\n  color: {{ .Values.color }}\n  size: {{ .Values.size }}\n" +
			"{{- if .Capabilities.APIVersions.Has \"v1/ConfigMap\" }}\n  served: \"yes\"\n{{- end }}\n",
		"charts/shop/templates/hook.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hook\n  annotations: {helm.sh/hook: post-install}\n",
	})
	key := filepath.Join(dir, "digest.key")
	if err := os.WriteFile(key, []byte("e2e-digest-key-e2e-digest-key-32"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "server.yaml")
	writeTree(t, dir, map[string]string{"server.yaml": "clusters:\n  local:\n    kubeconfig: " + cluster.Kubeconfig() + "\ndigest_key_file: digest.key\n"})

	out, stderr, code := botPlan(t, "--repo", repo, "--config", cfg, "--env", "shop", "-o", "json")
	if code != 2 {
		t.Fatalf("exit %d, want 2 (changes); stderr:\n%s\nstdout:\n%s", code, stderr, out)
	}
	var doc jsonReport
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	p := doc.Plans[0]
	if len(p.Problems) != 0 || p.Counts.Create != 2 || len(p.Changes) != 2 {
		t.Fatalf("plan:\n%s", out)
	}
	cm := p.Changes[1]
	if cm.Kind != "ConfigMap" || cm.Name != "shop-settings" || cm.Source.File != "charts/shop/templates/cm.yaml" || cm.Source.Line != 2 {
		t.Errorf("ConfigMap change %s/%s from %+v", cm.Kind, cm.Name, cm.Source)
	}
	for _, want := range []string{"color: green", "size: large", "served: \"yes\""} {
		if !strings.Contains(cm.Diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, cm.Diff)
		}
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0].Message, "1 Helm hook not applied") || !strings.Contains(p.Warnings[0].Message, "ConfigMap/hook (post-install, charts/shop/templates/hook.yaml)") {
		t.Errorf("warnings %+v", p.Warnings)
	}
}
