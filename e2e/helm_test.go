package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// A Helm environment through the real bot: a pull request that changes
// only a values file the environment uses (outside the chart) gets a plan
// of the chart's objects, each at its template, with the chart's hook
// listed as not applied; the path environment beside it is not affected.
func TestHelmEnvironmentPlan(t *testing.T) {
	w := newWorld(t, options{nsFiles: func(ns string) map[string]string {
		return map[string]string{
			".tugboat.yaml": fmt.Sprintf(`version: 1
environments:
  staging:
    cluster: staging
    namespace: %[1]s
    apply: on-comment
    helm:
      chart: charts/web
      release: web
      values: [env/staging.yaml]
  prod:
    cluster: prod
    path: deploy/prod
    namespace: %[1]s
`, ns),
			"charts/web/Chart.yaml":  "apiVersion: v2\nname: web\nversion: 1.0.0\n",
			"charts/web/values.yaml": "color: blue\nimage: nginx:1.27\n",
			"charts/web/templates/_helpers.tpl": `{{- define "web.labels" -}}
app: {{ .Release.Name }}
{{- end -}}
`,
			"charts/web/templates/app.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
  labels: {{- include "web.labels" . | nindent 4 }}
data:
  color: {{ .Values.color | quote }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
spec:
  selector: {{- include "web.labels" . | nindent 4 }}
  ports: [{port: 80}]
`,
			"charts/web/templates/migrate.yaml": `apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-migrate
  annotations: {helm.sh/hook: pre-upgrade}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: m, image: {{ .Values.image }}}]
`,
			"env/staging.yaml": "color: blue\n",
		}
	}})
	n, sha := w.openPR("green", map[string]string{"env/staging.yaml": "color: green\n"})
	checks := w.waitPlanned(sha, "staging")
	if c := checks["tugboat/staging"]; c.Conclusion == "failure" {
		t.Errorf("staging failed: %s\n%s", c.Summary, c.Text)
	}
	if _, ok := checks["tugboat/prod"]; ok {
		t.Errorf("prod (a path environment the PR does not touch) was planned")
	}
	comments := w.planComments(n, sha)
	if len(comments) != 1 {
		t.Fatalf("%d plan comments", len(comments))
	}
	body := comments[0].Body
	for _, want := range []string{
		"charts/web/templates/app.yaml:1",
		"charts/web/templates/app.yaml:9",
		`color: green`,
		"1 Helm hook not applied (tugboat applies the chart's objects, never its hooks): Job/web-migrate (pre-upgrade, charts/web/templates/migrate.yaml)",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("plan comment lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "Job/") && strings.Contains(body, "create Job") {
		t.Errorf("the hook was planned:\n%s", body)
	}
}
