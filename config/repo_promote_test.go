package config

import (
	"strings"
	"testing"
)

func TestPromoteAndBreakGlass(t *testing.T) {
	cfg, err := ParseRepo([]byte(`version: 1
environments:
  staging:
    cluster: c
    path: deploy/staging
  prod:
    cluster: c
    path: deploy/prod
    promote:
      from: staging
      images: true
      files: [config/./app.env]
    break_glass: [alice, team:acme/sre]
`), ".tugboat.yaml")
	if err != nil {
		t.Fatal(err)
	}
	prod, _ := cfg.Env("prod")
	if prod.Promote == nil || prod.Promote.From != "staging" || !prod.Promote.Images || len(prod.Promote.Files) != 1 || prod.Promote.Files[0] != "config/app.env" {
		t.Fatalf("promote = %+v", prod.Promote)
	}
	if len(prod.BreakGlass) != 2 || prod.BreakGlass[0].Login != "alice" || prod.BreakGlass[1].Team != "sre" {
		t.Fatalf("break_glass = %+v", prod.BreakGlass)
	}
	if staging, _ := cfg.Env("staging"); staging.Promote != nil {
		t.Fatalf("staging.promote = %+v, want nil", staging.Promote)
	}
}

func TestPromoteBadInput(t *testing.T) {
	for _, tc := range []struct{ promote, want string }{
		{"{from: nowhere, images: true}", `.tugboat.yaml:9: environments.prod.promote.from: unknown environment "nowhere"`},
		{"{from: prod, images: true}", `.tugboat.yaml:9: environments.prod.promote.from: an environment cannot be promoted from itself`},
		{"{from: staging}", `.tugboat.yaml:9: environments.prod.promote: promotes nothing: set images: true or list files`},
		{"{images: true}", `.tugboat.yaml:9: environments.prod.promote: from: missing (the environment promoted from)`},
		{"{from: staging, files: [../x]}", `.tugboat.yaml:9: environments.prod.promote.files[0]:`},
		{"{from: staging, images: true, colour: red}", `.tugboat.yaml:9: environments.prod.promote: unknown key "colour"`},
		{"staging", `.tugboat.yaml:9: environments.prod.promote: want a mapping (from, images, files, values), got`},
	} {
		_, err := ParseRepo([]byte(`version: 1
environments:
  staging:
    cluster: c
    path: deploy/staging
  prod:
    cluster: c
    path: deploy/prod
    promote: `+tc.promote+"\n"), ".tugboat.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("promote: %s: got %v, want %q", tc.promote, err, tc.want)
		}
	}
}
