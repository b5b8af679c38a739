package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseRepoFullExampleAndDefaults(t *testing.T) {
	src := `version: 1
environments:
  staging:
    cluster: staging
    path: deploy/overlays/staging/
    namespace: apps
    apply: on-comment
    requires: [approved, mergeable]
    approvals: 2
    prune: true
    wait: 90s
    ignore:
      - {kind: Deployment, name: web, paths: [/spec/replicas, /metadata/annotations/a~1b]}
  prod:
    cluster: prod
    path: ./deploy/overlays/prod
    after: [staging]
`
	cfg, err := ParseRepo([]byte(src), ".tugboat.yaml")
	if err != nil {
		t.Fatalf("ParseRepo: %v", err)
	}
	want := []Environment{
		{
			Name: "prod", Cluster: "prod", Path: "deploy/overlays/prod",
			Apply: ApplyOnMerge, Requires: []string{"approved", "mergeable"}, Approvals: 1,
			Wait: 5 * time.Minute, After: []string{"staging"}, Ignore: []IgnoreRule{},
		},
		{
			Name: "staging", Cluster: "staging", Path: "deploy/overlays/staging", Namespace: "apps",
			Apply: ApplyOnComment, Requires: []string{"approved", "mergeable"}, Approvals: 2,
			Prune: true, Wait: 90 * time.Second, After: []string{},
			Ignore: []IgnoreRule{{Kind: "Deployment", Name: "web", Paths: []string{"/spec/replicas", "/metadata/annotations/a~1b"}}},
		},
	}
	if cfg.Version != 1 || !reflect.DeepEqual(cfg.Environments, want) {
		t.Errorf("got %+v\nwant %+v", cfg.Environments, want)
	}
	if e, ok := cfg.Env("staging"); !ok || e.Namespace != "apps" {
		t.Errorf("Env(staging) = %+v, %v", e, ok)
	}
	if _, ok := cfg.Env("dev"); ok {
		t.Error("Env(dev) found an environment that does not exist")
	}
}

func TestParseRepoReportsEveryProblemWithItsLine(t *testing.T) {
	src := `version: 1
colour: blue
environments:
  staging:
    cluster: staging
    path: deploy/staging
    apply: sometimes
    replicas: 3
    wait: soon
    approvals: many
    prune: maybe
    requires: [approved, blessed]
    after: [qa]
  Prod_EU:
    cluster: prod
    path: /etc/kubernetes
  escape:
    cluster: prod
    path: deploy/../../secrets
    ignore:
      - {kind: Deployment, paths: [spec.replicas, /a~2b]}
      - {name: x, paths: []}
  nocluster:
    path: x
`
	_, err := ParseRepo([]byte(src), ".tugboat.yaml")
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want config.Errors, got %v", err)
	}
	want := []string{
		`.tugboat.yaml:2: unknown key "colour" (want version, environments, automerge, policies or policies_from)`,
		`.tugboat.yaml:7: environments.staging.apply: unknown apply mode "sometimes" (want on-comment, on-merge or auto)`,
		`.tugboat.yaml:8: environments.staging: unknown key "replicas"`,
		`.tugboat.yaml:9: environments.staging.wait: "soon" is not a duration`,
		`.tugboat.yaml:10: environments.staging.approvals: want a whole number, got "many"`,
		`.tugboat.yaml:11: environments.staging.prune: want true or false, got "maybe"`,
		`.tugboat.yaml:12: environments.staging.requires: unknown requirement "blessed"`,
		`.tugboat.yaml:13: environments.staging.after: unknown environment "qa"`,
		`.tugboat.yaml:14: environments.Prod_EU: environment name "Prod_EU" is not a DNS-1123 label`,
		`.tugboat.yaml:16: environments.Prod_EU.path: "/etc/kubernetes" is absolute`,
		`.tugboat.yaml:19: environments.escape.path: "deploy/../../secrets" is outside the repository`,
		`.tugboat.yaml:21: environments.escape.ignore[0].paths[0]: "spec.replicas" is not a JSON pointer`,
		`.tugboat.yaml:21: environments.escape.ignore[0].paths[1]: "/a~2b" is not a valid JSON pointer`,
		`.tugboat.yaml:22: environments.escape.ignore[1]: kind: missing`,
		`.tugboat.yaml:22: environments.escape.ignore[1]: paths: missing`,
		`.tugboat.yaml:23: environments.nocluster: cluster: missing`,
	}
	got := strings.Split(errs.Error(), "\n")
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(got), len(want), errs.Error())
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d:\n got %s\nwant %s…", i, got[i], want[i])
		}
	}
	for _, e := range errs {
		if e.File != ".tugboat.yaml" || e.Line == 0 {
			t.Errorf("problem without file and line: %+v", e)
		}
	}
}

func TestParseRepoAfterCycle(t *testing.T) {
	src := `version: 1
environments:
  a: {cluster: c, path: a, after: [c]}
  b: {cluster: c, path: b, after: [a]}
  c: {cluster: c, path: c, after: [b]}
  d: {cluster: c, path: d, after: [d]}
  e: {cluster: c, path: e, after: [a]}
`
	_, err := ParseRepo([]byte(src), "repo/.tugboat.yaml")
	if err == nil {
		t.Fatal("a cycle was accepted")
	}
	msg := err.Error()
	if n := strings.Count(msg, "forms a cycle"); n != 1 {
		t.Errorf("want the a→c→b→a cycle reported once, got %d times:\n%s", n, msg)
	}
	if !strings.Contains(msg, `repo/.tugboat.yaml:4: environments.b.after: "a" forms a cycle: a → c → b → a`) {
		t.Errorf("cycle not reported at its line:\n%s", msg)
	}
	if !strings.Contains(msg, "repo/.tugboat.yaml:6: environments.d.after: an environment cannot come after itself") {
		t.Errorf("self-reference not reported:\n%s", msg)
	}
	if strings.Contains(msg, "environments.e") {
		t.Errorf("e only follows the cycle and is not part of it:\n%s", msg)
	}
}

func TestParseRepoStructuralErrors(t *testing.T) {
	cases := map[string]struct{ src, want string }{
		"syntax":          {"version: 1\nenvironments:\n  a: [\n", ".tugboat.yaml:3: invalid YAML: did not find expected node content"},
		"indentation":     {"version: 1\nenvironments:\n  a:\n    cluster: c\n    path: a\n   apply: auto\n", ".tugboat.yaml:6: invalid YAML: did not find expected key"},
		"not a mapping":   {"- a\n- b\n", ".tugboat.yaml:1: want a mapping at the top level"},
		"no version":      {"environments: {}\n", ".tugboat.yaml:1: version: missing"},
		"wrong version":   {"version: 2\nenvironments: {}\n", ".tugboat.yaml:1: version: unsupported version 2"},
		"empty":           {"", ".tugboat.yaml: file is empty"},
		"envs a list":     {"version: 1\nenvironments: [a]\n", ".tugboat.yaml:2: environments: want a mapping"},
		"repeated env":    {"version: 1\nenvironments:\n  a: {cluster: c, path: a}\n  a: {cluster: c, path: b}\n", `.tugboat.yaml:4: environments.a: key "a" is repeated (first on line 3)`},
		"negative wait":   {"version: 1\nenvironments:\n  a: {cluster: c, path: a, wait: -1m}\n", ".tugboat.yaml:3: environments.a.wait: must be positive"},
		"backslash path":  {"version: 1\nenvironments:\n  a: {cluster: c, path: 'deploy\\prod'}\n", ".tugboat.yaml:3: environments.a.path: \"deploy\\\\prod\": use /"},
		"bad namespace":   {"version: 1\nenvironments:\n  a: {cluster: c, path: a, namespace: Apps}\n", ".tugboat.yaml:3: environments.a.namespace: \"Apps\" is not a valid namespace name"},
		"env not mapping": {"version: 1\nenvironments:\n  a: staging\n", ".tugboat.yaml:3: environments.a: want a mapping of settings"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseRepo([]byte(tc.src), ".tugboat.yaml")
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("got %v\nwant prefix %s", err, tc.want)
			}
		})
	}
}

func TestParseRepoEmptyOptionalKeepsDefaultAndRootPath(t *testing.T) {
	cfg, err := ParseRepo([]byte("version: 1\nenvironments:\n  dev:\n    cluster: dev\n    path: .\n    namespace:\n"), "x")
	if err != nil {
		t.Fatal(err)
	}
	e := cfg.Environments[0]
	if e.Path != "." || e.Namespace != "" || e.Apply != ApplyOnMerge || e.Wait != 5*time.Minute {
		t.Errorf("got %+v", e)
	}
}

func TestParseRepoApplyKeys(t *testing.T) {
	src := `version: 1
automerge: true
environments:
  staging:
    cluster: staging
    path: s
    appliers: [alice, Bob-2, team:acme/platform, team:acme/sre_oncall]
    production: false
    url: https://staging.example.com/shop
  prod:
    cluster: prod
    path: p
    production: true
    url: http://prod.internal:8080
  dev:
    cluster: dev
    path: d
    appliers:
    url:
`
	cfg, err := ParseRepo([]byte(src), ".tugboat.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Automerge {
		t.Error("automerge: true was not read")
	}
	staging, _ := cfg.Env("staging")
	wantAppliers := []Applier{{Login: "alice"}, {Login: "Bob-2"}, {Org: "acme", Team: "platform"}, {Org: "acme", Team: "sre_oncall"}}
	if !reflect.DeepEqual(staging.Appliers, wantAppliers) || staging.Production || staging.URL != "https://staging.example.com/shop" {
		t.Errorf("staging = %+v", staging)
	}
	prod, _ := cfg.Env("prod")
	if prod.Appliers != nil || !prod.Production || prod.URL != "http://prod.internal:8080" {
		t.Errorf("prod = %+v", prod)
	}
	dev, _ := cfg.Env("dev")
	if dev.Appliers != nil || dev.Production || dev.URL != "" {
		t.Errorf("empty keys must keep the defaults: dev = %+v", dev)
	}
	var names []string
	for _, a := range staging.Appliers {
		names = append(names, a.String())
	}
	if got := strings.Join(names, ","); got != "alice,Bob-2,team:acme/platform,team:acme/sre_oncall" {
		t.Errorf("String() = %s", got)
	}
	if !staging.Appliers[1].IsLogin("bob-2") || staging.Appliers[0].IsLogin("bob-2") || staging.Appliers[2].IsLogin("platform") || !staging.Appliers[2].IsTeam() {
		t.Error("IsLogin/IsTeam")
	}

	defaults, err := ParseRepo([]byte("version: 1\nenvironments:\n  a: {cluster: c, path: a}\n"), "f")
	if err != nil {
		t.Fatal(err)
	}
	if a := defaults.Environments[0]; defaults.Automerge || a.Appliers != nil || a.Production || a.URL != "" {
		t.Errorf("defaults: automerge %v, %+v", defaults.Automerge, a)
	}
}

func TestParseRepoApplyKeysBadInput(t *testing.T) {
	src := `version: 1
automerge: sometimes
environments:
  staging:
    cluster: staging
    path: s
    appliers:
      - alice
      - "@bob"
      - acme/platform
      - team:acme
      - team:/platform
      - "carol smith"
      - ok-person
      - team:acme/plat form
    production: yes please
    url: staging.example.com
  prod:
    cluster: prod
    path: p
    appliers: []
    url: ftp://prod.example.com
  qa:
    cluster: qa
    path: q
    appliers: alice
    production: 1
    url: https://user:pw@qa.example.com
  dev: {cluster: dev, path: d, appliers: [{login: x}], url: [a]}
`
	_, err := ParseRepo([]byte(src), ".tugboat.yaml")
	if err == nil {
		t.Fatal("accepted")
	}
	want := []string{
		`.tugboat.yaml:2: automerge: want true or false, got "sometimes"`,
		`.tugboat.yaml:9: environments.staging.appliers[1]: "@bob": write the login without @`,
		`.tugboat.yaml:10: environments.staging.appliers[2]: "acme/platform" is not a GitHub login: write team:acme/platform for a team`,
		`.tugboat.yaml:11: environments.staging.appliers[3]: "team:acme" is not a team: want team:org/slug`,
		`.tugboat.yaml:12: environments.staging.appliers[4]: "team:/platform" is not a team`,
		`.tugboat.yaml:13: environments.staging.appliers[5]: "carol smith" is not a GitHub login`,
		`.tugboat.yaml:15: environments.staging.appliers[7]: "team:acme/plat form" is not a team`,
		`.tugboat.yaml:16: environments.staging.production: want true or false, got "yes please"`,
		`.tugboat.yaml:17: environments.staging.url: "staging.example.com" is not an http(s) URL`,
		`.tugboat.yaml:21: environments.prod.appliers: empty list: leave appliers out to let everyone with write access apply`,
		`.tugboat.yaml:22: environments.prod.url: "ftp://prod.example.com" is not an http(s) URL`,
		`.tugboat.yaml:26: environments.qa.appliers: want a list, got "alice"`,
		`.tugboat.yaml:27: environments.qa.production: want true or false, got "1"`,
		`.tugboat.yaml:28: environments.qa.url: must not hold a user name or password`,
		`.tugboat.yaml:29: environments.dev.appliers[0]: want a string, got a mapping`,
		`.tugboat.yaml:29: environments.dev.url: want a string, got a list`,
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(got), len(want), err)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d:\n got %s\nwant %s…", i, got[i], want[i])
		}
	}
	if strings.Contains(err.Error(), "pw@") {
		t.Error("a URL's password is repeated in the problem")
	}
}
