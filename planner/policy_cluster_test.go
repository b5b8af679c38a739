package planner

import (
	"strings"
	"testing"
	"time"
)

// TestClusterPolicyDenialReadsWell: a ValidatingAdmissionPolicy of the
// cluster denying an object in the dry-run is a problem at the object's
// file and line that names the policy and gives its message.
func TestClusterPolicyDenialReadsWell(t *testing.T) {
	f := newFixture(t, cluster)
	f.createNamespace()
	f.applyAs("setup", false, `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: {{NS}}-owner}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
      - {apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [configmaps]}
  validations:
    - expression: "has(object.metadata.labels) && 'owner' in object.metadata.labels"
      message: configmaps need an owner label
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: {{NS}}-owner}
spec:
  policyName: {{NS}}-owner
  validationActions: [Deny]
  matchResources:
    namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: {{NS}}}}
`)
	head := f.files("deploy/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: {{NS}}}\ndata: {a: b}\n")
	var p *Plan
	// The API server picks a new policy up within a second or so.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		p = f.plan(f.env(), head, nil)
		if len(p.Problems) > 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(p.Problems) != 1 {
		t.Fatalf("problems = %+v, want the cluster policy's denial", p.Problems)
	}
	pr := p.Problems[0]
	want := "denied by the cluster's ValidatingAdmissionPolicy " + f.ns + "-owner (binding " + f.ns + "-owner): configmaps need an owner label"
	if pr.Message != want || pr.Source.File != "deploy/cm.yaml" || pr.Source.Line != 1 {
		t.Errorf("problem = %s:%d %q\nwant deploy/cm.yaml:1 %q", pr.Source.File, pr.Source.Line, pr.Message, want)
	}
	if strings.Contains(pr.Message, "is forbidden") {
		t.Errorf("message keeps the server's preamble: %q", pr.Message)
	}
}
