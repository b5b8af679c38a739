package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// policyFiles is a default branch whose .tugboat.yaml has a deny policy
// and takes a warn policy from a shared file.
func policyFiles(ns string) map[string]string {
	files := baseFiles(ns)
	files[".tugboat.yaml"] += `policies:
  - name: owner-label
    match: [{kinds: [ConfigMap]}]
    validations:
      - expression: "has(object.metadata.labels) && 'owner' in object.metadata.labels"
        message: every ConfigMap needs an owner label
policies_from: .tugboat/policies.yaml
`
	files[".tugboat/policies.yaml"] = `policies:
  - name: small-config
    action: warn
    match: [{kinds: [ConfigMap], names: [big]}]
    validations:
      - expression: "size(object.data) <= 1"
        message: keep ConfigMaps small
`
	return files
}

func labelledConfigMap(name, owner string, kv ...string) string {
	y := configMap(name, kv...)
	if owner != "" {
		y = strings.Replace(y, "metadata:\n  name: "+name+"\n", fmt.Sprintf("metadata:\n  name: %s\n  labels: {owner: %s}\n", name, owner), 1)
	}
	return y
}

// A PR whose manifests violate the default branch's policies: the deny
// policy fails the environment's check run with an annotation at the
// object's file and line and lists the violation in the comment; the warn
// policy (from the shared file) is shown as a warning and does not fail.
func TestPoliciesInCommentAndCheckRun(t *testing.T) {
	w := newWorld(t, options{nsFiles: policyFiles})
	n, sha := w.openPR("policies", map[string]string{
		// staging: one ConfigMap without an owner (deny), one big (warn).
		"deploy/staging/app.yaml": configMap("app", "color", "green"),
		"deploy/staging/big.yaml": labelledConfigMap("big", "shop", "a", "1", "b", "2"),
		// prod: compliant, but warned about.
		"deploy/prod/app.yaml": labelledConfigMap("app", "shop", "color", "green") + "---\n" + labelledConfigMap("big", "shop", "a", "1", "b", "2"),
	})
	runs := w.waitPlanned(sha, "staging", "prod")
	staging, prod := runs["tugboat/staging"], runs["tugboat/prod"]
	deny := "policy owner-label: every ConfigMap needs an owner label"
	warn := "policy small-config: keep ConfigMaps small"
	if staging.Conclusion != "failure" || !strings.Contains(staging.Summary, deny) || !strings.Contains(staging.Summary, warn) {
		t.Errorf("tugboat/staging = %s, summary:\n%s", staging.Conclusion, staging.Summary)
	}
	annotated := map[string]string{}
	for _, a := range staging.Annotations {
		annotated[fmt.Sprintf("%v:%v %v", a["path"], a["start_line"], a["annotation_level"])] = fmt.Sprint(a["message"])
	}
	if got := annotated["deploy/staging/app.yaml:1 failure"]; got != deny {
		t.Errorf("no failure annotation at deploy/staging/app.yaml:1 with %q; annotations: %v", deny, annotated)
	}
	if got := annotated["deploy/staging/big.yaml:1 warning"]; got != warn {
		t.Errorf("no warning annotation at deploy/staging/big.yaml:1 with %q; annotations: %v", warn, annotated)
	}
	if prod.Conclusion == "failure" || !strings.Contains(prod.Summary, warn) || strings.Contains(prod.Summary, deny) {
		t.Errorf("tugboat/prod = %s (a warning must not fail it), summary:\n%s", prod.Conclusion, prod.Summary)
	}
	body := ""
	w.waitFor("plan comment", 60*time.Second, func() bool {
		body = ""
		for _, c := range w.planComments(n, sha) {
			body += c.Body
		}
		return body != ""
	})
	if !strings.Contains(body, deny) || !strings.Contains(body, "**Warnings**") || !strings.Contains(body, warn) {
		t.Errorf("plan comment lacks the violation or the warning:\n%s", body)
	}
}
