package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestHelmEnvironment(t *testing.T) {
	cfg, err := ParseRepo([]byte(`version: 1
environments:
  prod:
    cluster: prod
    namespace: shop
    helm:
      chart: charts/shop/
      values: [charts/shop/values-prod.yaml, ./env/prod.yaml]
      set: {image.tag: "1.5.0", replicas: 3, debug: false}
  staging:
    cluster: staging
    helm:
      chart: charts/shop
      release: shop-staging
`), ".tugboat.yaml")
	if err != nil {
		t.Fatal(err)
	}
	prod, _ := cfg.Env("prod")
	want := &Helm{Chart: "charts/shop", Release: "prod", Values: []string{"charts/shop/values-prod.yaml", "env/prod.yaml"},
		Set: []HelmSet{{"image.tag", "1.5.0"}, {"replicas", "3"}, {"debug", "false"}}}
	if prod.Path != "" || !reflect.DeepEqual(prod.Helm, want) {
		t.Fatalf("prod: path %q, helm %+v, want %+v", prod.Path, prod.Helm, want)
	}
	if got := prod.Sources(); !reflect.DeepEqual(got, []string{"charts/shop", "charts/shop/values-prod.yaml", "env/prod.yaml"}) {
		t.Errorf("prod sources = %v", got)
	}
	staging, _ := cfg.Env("staging")
	if staging.Helm.Release != "shop-staging" || len(staging.Helm.Values) != 0 {
		t.Errorf("staging helm = %+v", staging.Helm)
	}
}

func TestHelmBadInput(t *testing.T) {
	for _, tc := range []struct{ env, want string }{
		{"path: deploy\n    helm: {chart: c}", `.tugboat.yaml:6: environments.prod: path and helm are mutually exclusive (path at line 5)`},
		{"namespace: x", `.tugboat.yaml:3: environments.prod: path: missing`},
		{"path:", `.tugboat.yaml:5: environments.prod.path: must not be empty`},
		{"helm: {release: x}", `.tugboat.yaml:5: environments.prod.helm: chart: missing (the chart's directory`},
		{"helm: {chart: ../c}", `.tugboat.yaml:5: environments.prod.helm.chart: "../c" is outside the repository`},
		{"helm: {chart: c, values: [/etc/passwd]}", `.tugboat.yaml:5: environments.prod.helm.values[0]: "/etc/passwd" is absolute`},
		{"helm: {chart: c, release: Shop_1}", `.tugboat.yaml:5: environments.prod.helm.release: "Shop_1" is not a valid Helm release name`},
		{"helm: {chart: c, set: {a: [1]}}", `.tugboat.yaml:5: environments.prod.helm.set.a: want a single value`},
		{"helm: {chart: c, hooks: true}", `.tugboat.yaml:5: environments.prod.helm: unknown key "hooks"`},
		{"helm: charts/shop", `.tugboat.yaml:5: environments.prod.helm: want a mapping (chart, release, values, set)`},
	} {
		_, err := ParseRepo([]byte("version: 1\nenvironments:\n  prod:\n    cluster: c\n    "+tc.env+"\n"), ".tugboat.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.env, err, tc.want)
		}
	}
}

func TestHelmPromoteValues(t *testing.T) {
	base := "version: 1\nenvironments:\n  staging:\n    cluster: c\n    helm: {chart: charts/shop, values: [charts/shop/values-staging.yaml]}\n  prod:\n    cluster: c\n"
	cfg, err := ParseRepo([]byte(base+"    helm: {chart: charts/shop, values: [charts/shop/values-prod.yaml]}\n    promote: {from: staging, values: [image.tag, resources]}\n"), ".tugboat.yaml")
	if err != nil {
		t.Fatal(err)
	}
	prod, _ := cfg.Env("prod")
	if !reflect.DeepEqual(prod.Promote.Values, []string{"image.tag", "resources"}) {
		t.Errorf("promote = %+v", prod.Promote)
	}
	for _, tc := range []struct{ env, want string }{
		{"    path: deploy/prod\n    promote: {from: staging, values: [image.tag]}\n", `.tugboat.yaml:9: environments.prod.promote.values: values are copied between Helm environments only`},
		{"    helm: {chart: charts/shop}\n    promote: {from: staging, values: [image.tag]}\n", `.tugboat.yaml:9: environments.prod.promote.values: prod has no values file to write them to`},
		{"    helm: {chart: charts/shop, values: [v.yaml]}\n    promote: {from: staging, values: [image..tag]}\n", `.tugboat.yaml:9: environments.prod.promote.values[0]: "image..tag" is not a dotted value path`},
	} {
		_, err := ParseRepo([]byte(base+tc.env), ".tugboat.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.env, err, tc.want)
		}
	}
}
