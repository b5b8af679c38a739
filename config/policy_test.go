package config

import (
	"context"
	"errors"
	"strings"
	"testing"
)

const policyConfig = `version: 1
policies:
  - name: limits-required
    match: [{group: apps, kinds: [Deployment, StatefulSet]}]
    validations:
      - expression: "object.spec.template.spec.containers.all(c, has(c.resources) && has(c.resources.limits))"
        message: every container needs resource limits
  - name: no-latest
    action: warn
    validations:
      - expression: "!has(object.spec) || true"
policies_from: .tugboat/policies.yaml
environments:
  staging: {cluster: staging, path: deploy}
  prod: {cluster: prod, path: deploy}
`

func TestParsePoliciesInRepoConfig(t *testing.T) {
	cfg, err := ParseRepo([]byte(policyConfig), ".tugboat.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Policies) != 2 || cfg.PoliciesFrom != ".tugboat/policies.yaml" {
		t.Fatalf("policies = %+v, from %q", cfg.Policies, cfg.PoliciesFrom)
	}
	lim, warn := cfg.Policies[0], cfg.Policies[1]
	if lim.Name != "limits-required" || lim.Action != PolicyDeny || lim.Line != 3 || lim.File != ".tugboat.yaml" ||
		len(lim.Validations) != 1 || lim.Validations[0].Line != 6 || lim.Validations[0].Message != "every container needs resource limits" {
		t.Errorf("limits-required = %+v", lim)
	}
	if warn.Action != PolicyWarn || warn.Validations[0].Message != `failed expression: !has(object.spec) || true` {
		t.Errorf("no-latest = %+v", warn)
	}
	for _, e := range cfg.Environments {
		if len(e.Policies) != 2 {
			t.Errorf("environment %s has %d policies, want 2", e.Name, len(e.Policies))
		}
	}
	shared, err := ParsePolicies(context.Background(), []byte("policies:\n  - name: team-label\n    validations: [{expression: \"'team' in object.metadata.labels\"}]\n"), ".tugboat/policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.AddPolicies(shared)
	for _, e := range cfg.Environments {
		if len(e.Policies) != 3 || e.Policies[2].Name != "team-label" || e.Policies[2].File != ".tugboat/policies.yaml" {
			t.Errorf("environment %s policies after AddPolicies = %+v", e.Name, e.Policies)
		}
	}
}

func TestPolicyMatches(t *testing.T) {
	core, apps := "", "apps"
	p := Policy{Match: []PolicyMatch{
		{Group: &apps, Kinds: []string{"Deployment"}, Namespaces: []string{"shop"}},
		{Group: &core, Kinds: []string{"Service"}, Names: []string{"web"}},
	}}
	for _, c := range []struct {
		group, kind, ns, name string
		want                  bool
	}{
		{"apps", "Deployment", "shop", "x", true},
		{"apps", "Deployment", "other", "x", false},
		{"apps", "StatefulSet", "shop", "x", false},
		{"", "Service", "any", "web", true},
		{"", "Service", "any", "api", false},
		{"extensions", "Deployment", "shop", "x", false},
	} {
		if got := p.Matches(c.group, c.kind, c.ns, c.name); got != c.want {
			t.Errorf("Matches(%q, %q, %q, %q) = %v, want %v", c.group, c.kind, c.ns, c.name, got, c.want)
		}
	}
	if !(Policy{}).Matches("x", "Y", "z", "w") {
		t.Error("a policy without match must apply to every object")
	}
	anyGroup := Policy{Match: []PolicyMatch{{Kinds: []string{"Deployment"}}}}
	if !anyGroup.Matches("apps", "Deployment", "", "x") || !anyGroup.Matches("example.com", "Deployment", "", "x") {
		t.Error("a match without group must match the kind in any group")
	}
}

// TestPolicyProblemsHaveLines: a broken policy is reported at the line of
// what is wrong, compile errors of CEL included.
func TestPolicyProblemsHaveLines(t *testing.T) {
	src := `version: 1
policies:
  - name: Bad_Name
    action: block
    validations:
      - expression: "object.spec.replicas >"
      - message: no expression
      - expression: "'a'"
  - name: dup
    colour: red
    validations: [{expression: "true"}]
  - name: dup
    validations: []
policies_from: ../outside.yaml
environments:
  prod: {cluster: prod, path: deploy}
`
	_, err := ParseRepo([]byte(src), ".tugboat.yaml")
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v", err)
	}
	want := []string{
		`.tugboat.yaml:3: policies[0].name: "Bad_Name" is not a valid name`,
		`.tugboat.yaml:4: policies[0].action: "block" is not an action (want deny or warn)`,
		`.tugboat.yaml:6: policies[0].validations[0].expression: does not compile`,
		`.tugboat.yaml:7: policies[0].validations[1]: expression: missing`,
		`.tugboat.yaml:8: policies[0].validations[2].expression: must evaluate to a bool, not string`,
		`.tugboat.yaml:10: policies[1]: unknown key "colour"`,
		`.tugboat.yaml:12: policies[2]: policy "dup" is already defined at line 9`,
		`.tugboat.yaml:13: policies[2].validations: want a non-empty list`,
		`.tugboat.yaml:14: policies_from: "../outside.yaml" is not a file inside the repository`,
	}
	if len(errs) != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", len(errs), len(want), err)
	}
	for i := 0; i < len(want) && i < len(errs); i++ {
		if !strings.HasPrefix(errs[i].Error(), want[i]) {
			t.Errorf("problem %d:\n got %s\nwant %s…", i, errs[i].Error(), want[i])
		}
	}
}

func TestParsePoliciesFileProblems(t *testing.T) {
	_, err := ParsePolicies(context.Background(), []byte("version: 1\n"), "p.yaml")
	if err == nil || !strings.Contains(err.Error(), `p.yaml:1: unknown key "version" (a policy file holds only policies)`) ||
		!strings.Contains(err.Error(), "policies: missing") {
		t.Errorf("err = %v", err)
	}
	big := make([]byte, MaxPolicyFileBytes+1)
	if _, err := ParsePolicies(context.Background(), big, "p.yaml"); err == nil || !strings.Contains(err.Error(), "over the 1 MiB limit") {
		t.Errorf("oversized file: err = %v", err)
	}
}
