package planner

import (
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/tugboatops/tugboat/config"
)

// scopeTable is a ScopeResolver over a fixed set of kinds, as discovery of
// a cluster with only those kinds would answer.
type scopeTable struct {
	kinds map[schema.GroupVersionKind]bool
	err   error
}

func (s scopeTable) IsNamespaced(gvk schema.GroupVersionKind) (bool, bool, error) {
	if s.err != nil {
		return false, false, s.err
	}
	ns, ok := s.kinds[gvk]
	return ns, ok, nil
}

var coreScopes = scopeTable{kinds: map[schema.GroupVersionKind]bool{
	{Version: "v1", Kind: "ConfigMap"}:                                               true,
	{Version: "v1", Kind: "Namespace"}:                                               false,
	{Group: "apps", Version: "v1", Kind: "Deployment"}:                               true,
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole"}:         false,
	{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}: false,
}}

func objFrom(t *testing.T, file string, line int, src string) Object {
	t.Helper()
	var m map[string]interface{}
	if err := yaml.Unmarshal([]byte(src), &m); err != nil {
		t.Fatal(err)
	}
	o, _, _ := decodeManifests(file, []byte(src), DefaultLimits(), DefaultMaxObjects)
	if len(o) != 1 {
		t.Fatalf("fixture %s did not decode to one object", src)
	}
	o[0].Source.Line = line
	return o[0]
}

func problemStrings(ps []Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, locationString(p.Source)+" "+p.Object+": "+p.Message)
	}
	return out
}

func TestValidateDefaultsNamespaceAndKeepsOrder(t *testing.T) {
	in := []Object{
		objFrom(t, "a.yaml", 1, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: one}\n"),
		objFrom(t, "a.yaml", 5, "apiVersion: v1\nkind: Namespace\nmetadata: {name: apps}\n"),
		objFrom(t, "b.yaml", 1, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: other}\n"),
	}
	out, probs := Validate(in, config.Environment{Name: "staging", Namespace: "apps"}, coreScopes)
	if len(probs) != 0 {
		t.Fatalf("unexpected problems: %v", problemStrings(probs))
	}
	if len(out) != 3 {
		t.Fatalf("got %d objects", len(out))
	}
	if got := out[0].Obj.GetNamespace(); got != "apps" {
		t.Errorf("ConfigMap namespace = %q, want the environment's apps", got)
	}
	if in[0].Obj.GetNamespace() != "" {
		t.Error("Validate modified its input")
	}
	if out[1].Obj.GetNamespace() != "" || out[2].Obj.GetNamespace() != "other" {
		t.Errorf("namespaces changed: %q %q", out[1].Obj.GetNamespace(), out[2].Obj.GetNamespace())
	}
	if out[0].Source != (Location{File: "a.yaml", Line: 1}) || out[2].Obj.GetName() != "web" {
		t.Errorf("order or source lost: %+v", out)
	}
}

func TestValidateProblems(t *testing.T) {
	in := []Object{
		objFrom(t, "m.yaml", 1, "kind: ConfigMap\nmetadata: {name: x}\n"),
		objFrom(t, "m.yaml", 4, "apiVersion: v1\nmetadata: {labels: {a: b}}\n"),
		objFrom(t, "m.yaml", 7, "apiVersion: a/b/c\nkind: ConfigMap\nmetadata: {name: why}\n"),
		objFrom(t, "ns.yaml", 1, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: nons}\n"),
		objFrom(t, "cr.yaml", 2, "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r, namespace: apps}\n"),
		objFrom(t, "x.yaml", 3, "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: apps}\n"),
		objFrom(t, "d1.yaml", 1, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: apps}\n"),
		objFrom(t, "d2.yaml", 9, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: apps}\n"),
		objFrom(t, "ok.yaml", 1, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: apps}\n"),
	}
	out, probs := Validate(in, config.Environment{Name: "prod"}, coreScopes)
	want := []string{
		"m.yaml:1 ConfigMap/x: object has no apiVersion",
		"m.yaml:4 : object has no kind and metadata.name",
		`m.yaml:7 ConfigMap/why: apiVersion "a/b/c" is not valid`,
		`ns.yaml:1 ConfigMap/nons: ConfigMap is namespaced but names no namespace, and environment "prod" sets no default namespace`,
		`cr.yaml:2 ClusterRole/apps/r: ClusterRole is cluster-scoped but sets metadata.namespace "apps"; remove it`,
		"x.yaml:3 Widget/apps/w: kind Widget (apiVersion example.com/v1) is not served by the cluster, and no CustomResourceDefinition in this change defines it",
		"d2.yaml:9 Deployment/apps/web: defined 2 times: d1.yaml:1 and d2.yaml:9",
	}
	got := problemStrings(probs)
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d:\n got %s\nwant %s", i, got[i], want[i])
		}
	}
	if len(out) != 1 || out[0].Obj.GetName() != "api" {
		t.Errorf("want only Deployment/apps/api to pass, got %d objects", len(out))
	}
}

func TestValidateCRDInSameSet(t *testing.T) {
	crd := `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets}
  versions: [{name: v1, served: true, storage: true}]
`
	clusterCRD := strings.NewReplacer("Namespaced", "Cluster", "Widget", "Gadget", "widgets", "gadgets").Replace(crd)
	in := []Object{
		objFrom(t, "crd.yaml", 1, crd),
		objFrom(t, "crd.yaml", 20, clusterCRD),
		objFrom(t, "w.yaml", 1, "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n"),
		objFrom(t, "w.yaml", 5, "apiVersion: example.com/v2\nkind: Widget\nmetadata: {name: w2}\n"),
		objFrom(t, "g.yaml", 1, "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g}\n"),
		objFrom(t, "g.yaml", 5, "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g2, namespace: apps}\n"),
	}
	out, probs := Validate(in, config.Environment{Name: "dev", Namespace: "apps"}, coreScopes)
	want := []string{
		`w.yaml:5 Widget/w2: the CustomResourceDefinition for Widget.example.com (crd.yaml:1) defines no version "v2"`,
		`g.yaml:5 Gadget/apps/g2: Gadget is cluster-scoped but sets metadata.namespace "apps"; remove it`,
	}
	if got := problemStrings(probs); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(out) != 4 || out[2].Obj.GetNamespace() != "apps" || out[3].Obj.GetNamespace() != "" {
		t.Errorf("want both CRDs, Widget/apps/w and Gadget/g; got %d objects", len(out))
	}
}

func TestValidateDiscoveryFailureReportedOnce(t *testing.T) {
	in := []Object{
		objFrom(t, "a.yaml", 1, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: x}\n"),
		objFrom(t, "a.yaml", 5, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: x}\n"),
	}
	out, probs := Validate(in, config.Environment{Name: "dev"}, scopeTable{err: errors.New("connection refused")})
	if len(out) != 0 || len(probs) != 1 || !strings.Contains(probs[0].Message, "connection refused") {
		t.Errorf("got %d objects, problems %v", len(out), problemStrings(probs))
	}
}
