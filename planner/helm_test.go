package planner

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/releaseutil"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/tugboatops/tugboat/config"
)

// clusterCaps are capabilities as a v1.36 cluster reports them (kinds
// included, which Helm's defaults lack).
var clusterCaps = &HelmCapabilities{KubeVersion: "v1.36.3", APIVersions: []string{"v1", "apps/v1", "apps/v1/Deployment", "policy/v1", "policy/v1/PodDisruptionBudget"}}

func shopRender(values ...string) HelmRender {
	return HelmRender{Helm: config.Helm{Chart: "helm/shop", Release: "shop", Values: values}, Namespace: "shop"}
}

func findObj(t *testing.T, objs []Object, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.Obj.GetKind() == kind && o.Obj.GetName() == name {
			return o.Obj
		}
	}
	t.Fatalf("no %s/%s in %v", kind, name, described(objs))
	return nil
}

func TestHelmRenderShop(t *testing.T) {
	hr := shopRender("helm/shop/values-prod.yaml")
	hr.Capabilities = clusterCaps
	objs, probs := RenderHelmInProcess(fixtures, hr, DefaultLimits())
	// The test hook is dropped silently; the pre-install Job is a note.
	wantProblems(t, probs, " : 1 Helm hook not applied (tugboat applies the chart's objects, never its hooks): Job/shop-migrate (pre-install, pre-upgrade, helm/shop/templates/migrate-job.yaml)")
	if !probs[0].Note {
		t.Error("the hook problem is not a note")
	}
	// Helm's install order, CRDs (crds/) first; each at its template.
	equalLines(t, described(objs), []string{
		"CustomResourceDefinition/widgets.shop.example.com helm/shop/crds/widgets.yaml:1",
		"PodDisruptionBudget/shop-frontend helm/shop/templates/pdb.yaml:1",
		"ConfigMap/shop/shop-flags helm/shop/templates/configmap.yaml:1",
		"Service/shop-redis helm/shop/charts/redis/templates/redis.yaml:20",
		"Service/shop-cart helm/shop/templates/cart.yaml:4",
		"Service/shop-checkout helm/shop/templates/checkout.yaml:4",
		"Service/shop-frontend helm/shop/templates/frontend.yaml:4",
		"Deployment/shop-redis helm/shop/charts/redis/templates/redis.yaml:1",
		"Deployment/shop-cart helm/shop/templates/cart.yaml:1",
		"Deployment/shop-checkout helm/shop/templates/checkout.yaml:1",
		"Deployment/shop-frontend helm/shop/templates/frontend.yaml:1",
	})
	d := findObj(t, objs, "Deployment", "shop-cart")
	if img, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers"); img[0].(map[string]any)["image"] != "registry.example.com/shop/cart:1.3.2" {
		t.Errorf("cart image = %v", img[0].(map[string]any)["image"])
	}
	if r, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas"); r != 3 {
		t.Errorf("replicas = %d, want 3 (values-prod.yaml)", r)
	}
}

// Values files apply in order after the chart's values.yaml, set entries
// last, like helm's -f and --set; set values are typed like --set's.
func TestHelmValuesPrecedence(t *testing.T) {
	hr := shopRender("helm/shop/values-staging.yaml", "helm/shop/values-prod.yaml")
	hr.Helm.Set = []config.HelmSet{{Key: "image.tag", Value: "2.0.0,rc1"}, {Key: "services.cart.port", Value: "9090"}}
	objs, probs := RenderHelmInProcess(fixtures, hr, DefaultLimits())
	wantProblems(t, probs, " : 1 Helm hook")
	cm := findObj(t, objs, "ConfigMap", "shop-flags")
	if v, _, _ := unstructured.NestedString(cm.Object, "data", "new-checkout"); v != "true" {
		t.Errorf("new-checkout = %q, want true (values-staging.yaml over values.yaml)", v)
	}
	d := findObj(t, objs, "Deployment", "shop-cart")
	if r, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas"); r != 3 {
		t.Errorf("replicas = %d, want 3 (values-prod.yaml after values-staging.yaml)", r)
	}
	c, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	if img := c[0].(map[string]any)["image"]; img != "registry.example.com/shop/cart:2.0.0,rc1" {
		t.Errorf("image = %v, want set's tag (commas and all)", img)
	}
	svc := findObj(t, objs, "Service", "shop-cart")
	if p, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports"); p[0].(map[string]any)["port"] != int64(9090) {
		t.Errorf("port = %#v, want the number 9090", p[0].(map[string]any)["port"])
	}
}

// .Capabilities is the cluster's when given (a kind it serves, its
// version), Helm's defaults otherwise.
func TestHelmCapabilities(t *testing.T) {
	objs, _ := RenderHelmInProcess(fixtures, shopRender(), DefaultLimits())
	for _, o := range objs {
		if o.Obj.GetKind() == "PodDisruptionBudget" {
			t.Error("Helm's default capabilities list no kinds, yet the PDB rendered")
		}
	}
	hr := shopRender()
	hr.Capabilities = clusterCaps
	objs, _ = RenderHelmInProcess(fixtures, hr, DefaultLimits())
	findObj(t, objs, "PodDisruptionBudget", "shop-frontend")
	cm := findObj(t, objs, "ConfigMap", "shop-flags")
	if v, _, _ := unstructured.NestedString(cm.Object, "data", "kube-version"); v != "v1.36.3" {
		t.Errorf("kube-version = %q", v)
	}
	if cm.GetNamespace() != "shop" {
		t.Errorf(".Release.Namespace = %q, want the environment's namespace", cm.GetNamespace())
	}
}

// chartFS is a small chart at c/ with the given files (names relative to
// the chart).
func chartFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{"c/Chart.yaml": {Data: []byte("apiVersion: v2\nname: c\nversion: 0.1.0\n")}}
	for name, data := range files {
		fsys["c/"+name] = &fstest.MapFile{Data: []byte(data)}
	}
	return fsys
}

func renderC(fsys fstest.MapFS, lim Limits) ([]Object, []Problem) {
	return RenderHelmInProcess(fsys, HelmRender{Helm: config.Helm{Chart: "c", Release: "r"}, Namespace: "ns"}, lim)
}

func TestHelmDependencies(t *testing.T) {
	chartYAML := "apiVersion: v2\nname: c\nversion: 0.1.0\ndependencies:\n  - name: sub\n    version: 1.0.0\n  - name: pg\n    version: 12.1.0\n    repository: https://charts.example.com\n"
	fsys := chartFS(map[string]string{"Chart.yaml": chartYAML,
		"charts/sub/Chart.yaml":          "apiVersion: v2\nname: sub\nversion: 1.0.0\n",
		"charts/sub/templates/cm.yaml":   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: sub}\n",
		"charts/sub/templates/NOTES.txt": "hi",
	})
	_, probs := renderC(fsys, DefaultLimits())
	wantProblems(t, probs, "c/Chart.yaml:4 : helm: found in Chart.yaml, but missing in charts/ directory: pg (renders never download charts")
	// Vendored, it renders (the directory name need not be the chart's).
	fsys["c/charts/postgres/Chart.yaml"] = &fstest.MapFile{Data: []byte("apiVersion: v2\nname: pg\nversion: 12.1.0\n")}
	fsys["c/charts/postgres/templates/svc.yaml"] = &fstest.MapFile{Data: []byte("apiVersion: v1\nkind: Service\nmetadata: {name: pg}\nspec: {ports: [{port: 5432}]}\n")}
	objs, probs := renderC(fsys, DefaultLimits())
	wantProblems(t, probs)
	equalLines(t, described(objs), []string{"ConfigMap/sub c/charts/sub/templates/cm.yaml:1", "Service/pg c/charts/postgres/templates/svc.yaml:1"})
}

func TestHelmTemplateErrors(t *testing.T) {
	for _, tc := range []struct{ name, tpl, want string }{
		{"fail", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  {{- fail \"no prod without a database\" }}\n",
			"c/templates/t.yaml:5 : helm: execution error at (c/templates/t.yaml:5:6): no prod without a database"},
		{"required", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ required \"name is required\" .Values.name }}\n",
			"c/templates/t.yaml:4 : helm: execution error at (c/templates/t.yaml:4:11): name is required"},
		{"parse", "apiVersion: v1\nkind: ConfigMap\n\nmetadata: {name: {{ .Values.x }</  }\n",
			"c/templates/t.yaml:4 : helm: parse error at (c/templates/t.yaml:4)"},
		{"bad YAML", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n   bad: [\n",
			"c/templates/t.yaml:1 : helm: YAML parse error on c/templates/t.yaml"},
		{"helper", "{{ include \"missing\" . }}\n", "c/templates/t.yaml:1 : helm: template: c/templates/t.yaml:1:3: executing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, probs := renderC(chartFS(map[string]string{"templates/t.yaml": tc.tpl}), DefaultLimits())
			wantProblems(t, probs, tc.want)
		})
	}
	_, probs := RenderHelmInProcess(fixtures, HelmRender{Helm: config.Helm{Chart: "helm/shop", Release: "r", Values: []string{"helm/nope.yaml"}}}, DefaultLimits())
	wantProblems(t, probs, "helm/nope.yaml : helm: values file helm/nope.yaml: does not exist in the repository")
	_, probs = RenderHelmInProcess(fstest.MapFS{"v.yaml": {Data: []byte("a: 1\nb: [\n")}, "c/Chart.yaml": {Data: []byte("apiVersion: v2\nname: c\nversion: 1.0.0\n")}},
		HelmRender{Helm: config.Helm{Chart: "c", Release: "r", Values: []string{"v.yaml"}}}, DefaultLimits())
	wantProblems(t, probs, "v.yaml:")
	_, probs = RenderHelmInProcess(fixtures, HelmRender{Helm: config.Helm{Chart: "plain", Release: "r"}}, DefaultLimits())
	wantProblems(t, probs, "plain : helm: plain has no Chart.yaml: not a chart directory")
}

// A symbolic link in the chart (to a host file, say) is refused; in the
// child, which never receives links, the file simply does not exist.
func TestHelmRefusesSymlinks(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "host-secret.yaml")
	os.WriteFile(outside, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: host-file}\n"), 0o600)
	repo := t.TempDir()
	os.MkdirAll(filepath.Join(repo, "c/templates"), 0o755)
	os.WriteFile(filepath.Join(repo, "c/Chart.yaml"), []byte("apiVersion: v2\nname: c\nversion: 0.1.0\n"), 0o600)
	os.WriteFile(filepath.Join(repo, "c/templates/ok.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n"), 0o600)
	if err := os.Symlink(outside, filepath.Join(repo, "c/templates/linked.yaml")); err != nil {
		t.Fatal(err)
	}
	hr := HelmRender{Helm: config.Helm{Chart: "c", Release: "r"}}
	_, probs := RenderHelmInProcess(os.DirFS(repo), hr, DefaultLimits())
	wantProblems(t, probs, "c/templates/linked.yaml : helm: c/templates/linked.yaml is a symbolic link; renders do not follow links")
	objs, probs, err := testRenderer(t, DefaultLimits()).Render(context.Background(), os.DirFS(repo), config.Environment{Name: "e", Helm: &hr.Helm})
	if err != nil {
		t.Fatal(err)
	}
	wantProblems(t, probs)
	equalLines(t, described(objs), []string{"ConfigMap/ok c/templates/ok.yaml:1"})
}

// A template reaches only the chart's own files: .Files of a path outside
// the chart finds nothing, and a dependency pointing outside it
// (file://..) is not vendored, so it is a problem, never a read.
func TestHelmChartFilesStayInTheChart(t *testing.T) {
	fsys := chartFS(map[string]string{
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  up: {{ .Files.Get \"../secret.txt\" | quote }}\n  own: {{ .Files.Get \"files/own.txt\" | quote }}\n",
		"files/own.txt":     "mine",
	})
	fsys["secret.txt"] = &fstest.MapFile{Data: []byte("hunter2")}
	objs, probs := renderC(fsys, DefaultLimits())
	wantProblems(t, probs)
	if d := findObj(t, objs, "ConfigMap", "x").Object["data"].(map[string]any); d["up"] != "" || d["own"] != "mine" {
		t.Errorf("data = %v", d)
	}
	fsys["c/Chart.yaml"] = &fstest.MapFile{Data: []byte("apiVersion: v2\nname: c\nversion: 0.1.0\ndependencies:\n  - name: other\n    version: 1.0.0\n    repository: file://../other\n")}
	fsys["other/Chart.yaml"] = &fstest.MapFile{Data: []byte("apiVersion: v2\nname: other\nversion: 1.0.0\n")}
	_, probs = renderC(fsys, DefaultLimits())
	wantProblems(t, probs, "c/Chart.yaml:4 : helm: found in Chart.yaml, but missing in charts/ directory: other")
}

func TestHelmRenderLimits(t *testing.T) {
	many := "{{ range until 20 }}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-{{ . }}}\n{{ end }}\n"
	lim := DefaultLimits()
	lim.MaxObjects = 10
	_, probs := renderC(chartFS(map[string]string{"templates/many.yaml": many}), lim)
	if len(probs) == 0 || !strings.Contains(probs[0].Message, "10") {
		t.Errorf("object limit: %v", problemStrings(probs))
	}
	// A template that runs forever is stopped by the child's time limit.
	slow := chartFS(map[string]string{"templates/slow.yaml": "{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}\n"})
	lim = DefaultLimits()
	lim.Timeout = 2 * time.Second
	start := time.Now()
	_, probs, err := testRenderer(t, lim).Render(context.Background(), slow, config.Environment{Name: "e", Helm: &config.Helm{Chart: "c", Release: "r"}})
	if err != nil {
		t.Fatal(err)
	}
	wantProblems(t, probs, " : render killed: exceeded the 2s time limit")
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %s", took)
	}
	// And one that allocates without bound by its memory limit.
	big := chartFS(map[string]string{"templates/big.yaml": "{{ $s := \"xxxxxxxxxxxxxxxx\" }}{{ range until 40 }}{{ $s = print $s $s }}{{ end }}{{ $s }}\n"})
	lim = DefaultLimits()
	lim.MemoryBytes = 256 << 20
	_, probs, err = testRenderer(t, lim).Render(context.Background(), big, config.Environment{Name: "e", Helm: &config.Helm{Chart: "c", Release: "r"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) != 1 || !strings.Contains(probs[0].Message, "memory limit") {
		t.Errorf("memory: %v", problemStrings(probs))
	}
}

// The render through the child is the in-process render, capabilities
// included.
func TestHelmRenderChild(t *testing.T) {
	h := config.Helm{Chart: "helm/shop", Release: "shop", Values: []string{"helm/shop/values-prod.yaml"}}
	objs, probs, err := testRenderer(t, DefaultLimits()).Render(context.Background(), fixtures, config.Environment{Name: "prod", Namespace: "shop", Helm: &h})
	if err != nil {
		t.Fatal(err)
	}
	want, wantProbs := RenderHelmInProcess(fixtures, shopRender("helm/shop/values-prod.yaml"), DefaultLimits())
	equalLines(t, described(objs), described(want))
	equalLines(t, problemStrings(probs), problemStrings(wantProbs))
	if !probs[0].Note {
		t.Error("the note lost its mark on the way")
	}
}

// The rendered objects are those of `helm template` (Helm's own client-only
// install, on the chart loaded from disk by Helm's loader) of the same
// Helm version, given the same version and API versions.
func TestHelmRenderMatchesHelmTemplate(t *testing.T) {
	hr := shopRender("helm/shop/values-prod.yaml")
	hr.Helm.Set = []config.HelmSet{{Key: "image.tag", Value: "9.9.9"}}
	hr.Capabilities = clusterCaps
	objs, _ := RenderHelmInProcess(fixtures, hr, DefaultLimits())

	c, err := loader.Load("testdata/render/helm/shop")
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string]any{}
	data, _ := os.ReadFile("testdata/render/helm/shop/values-prod.yaml")
	if err := sigsyaml.Unmarshal(data, &vals); err != nil {
		t.Fatal(err)
	}
	vals["image"].(map[string]any)["tag"] = "9.9.9"
	in := action.NewInstall(&action.Configuration{})
	in.DryRun, in.ClientOnly, in.IncludeCRDs, in.Replace = true, true, true, true
	in.ReleaseName, in.Namespace = "shop", "shop"
	kv, _ := chartutil.ParseKubeVersion(clusterCaps.KubeVersion)
	in.KubeVersion = kv
	in.APIVersions = clusterCaps.APIVersions
	rel, err := in.Run(c, vals)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, doc := range releaseutil.SplitManifests(rel.Manifest) {
		var m map[string]any
		if err := sigsyaml.Unmarshal([]byte(doc), &m); err != nil || m == nil {
			continue
		}
		js, _ := json.Marshal(m)
		want = append(want, string(js))
	}
	var got []string
	for _, o := range objs {
		js, _ := json.Marshal(o.Obj.Object)
		got = append(got, string(js))
	}
	sort.Strings(want)
	sort.Strings(got)
	if len(want) < 10 || !reflect.DeepEqual(got, want) {
		t.Errorf("rendered objects differ from helm template's:\n got %d: %s\nwant %d: %s", len(got), strings.Join(got, "\n"), len(want), strings.Join(want, "\n"))
	}
}

func TestKustomizeHelmChartsDisabled(t *testing.T) {
	fsys := fstest.MapFS{"k/kustomization.yaml": {Data: []byte("resources: []\nhelmCharts:\n  - name: redis\n    repo: https://charts.example.com\n")}}
	_, probs := RenderInProcess(fsys, "k", DefaultLimits())
	if len(probs) == 0 || !strings.Contains(problemStrings(probs)[0], "k/kustomization.yaml:2 : helmCharts: Kustomize's Helm support is disabled") || !strings.Contains(probs[0].Message, "helm: environment") {
		t.Errorf("got %v", problemStrings(probs))
	}
}
