package planner

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tugboatops/tugboat/config"
)

var fixtures = os.DirFS("testdata/render")

// testRenderer re-executes this test binary as the render child (see
// TestMain).
func testRenderer(t *testing.T, lim Limits) *Renderer {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return &Renderer{Exe: exe, Args: []string{"-test.run=^$"}, Env: []string{"TUGBOAT_RENDER_CHILD=1"}, Limits: lim}
}

func renderChild(t *testing.T, repo fstest.MapFS, path string, lim Limits) ([]Object, []Problem, time.Duration) {
	t.Helper()
	start := time.Now()
	objs, probs, err := testRenderer(t, lim).Render(context.Background(), repo, config.Environment{Name: "test", Path: path})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return objs, probs, time.Since(start)
}

// described lists objects as "Kind/ns/name file:line".
func described(objs []Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, fmt.Sprintf("%s %s:%d", refString(o.Obj), o.Source.File, o.Source.Line))
	}
	return out
}

func wantProblems(t *testing.T, probs []Problem, want ...string) {
	t.Helper()
	got := problemStrings(probs)
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d:\n got %s\nwant %s…", i, got[i], want[i])
		}
	}
}

func equalLines(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestRenderPlainDirectory(t *testing.T) {
	objs, probs := RenderInProcess(fixtures, "plain/apps", DefaultLimits())
	wantProblems(t, probs)
	equalLines(t, described(objs), []string{
		"ConfigMap/flags plain/apps/a-web.yaml:4",
		"ConfigMap/listed-one plain/apps/a-web.yaml:18",
		"ConfigMap/listed-two plain/apps/a-web.yaml:22",
		"ServiceAccount/robot plain/apps/b.json:1",
		"Secret/db plain/apps/sub/c.yml:1",
	})
	// YAML is read as kubectl reads it (YAML 1.1): a bare yes is a boolean.
	data := objs[0].Obj.Object["data"].(map[string]interface{})
	if data["enabled"] != "yes" || data["legacy"] != true {
		t.Errorf("data = %#v", data)
	}
	if port, _, _ := unstructured.NestedString(objs[4].Obj.Object, "stringData", "port"); port != "5432" {
		t.Errorf("stringData.port = %q", port)
	}
}

func TestRenderInvalidYAMLNamesFileAndLine(t *testing.T) {
	objs, probs := RenderInProcess(fixtures, "invalid", DefaultLimits())
	wantProblems(t, probs, "invalid/broken.yaml:12 : invalid YAML: did not find expected key")
	// The valid documents still render, so one typo does not hide the rest.
	equalLines(t, described(objs), []string{"ConfigMap/first invalid/broken.yaml:1", "ConfigMap/fine invalid/ok.yaml:1"})
}

func TestRenderPlainProblems(t *testing.T) {
	repo := fstest.MapFS{
		"d/scalar.yaml": {Data: []byte("just a string\n")},
		"d/list.yaml":   {Data: []byte("- a\n- b\n")},
		"d/items.yaml":  {Data: []byte("apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: ok}\n  - 42\n")},
	}
	objs, probs := RenderInProcess(repo, "d", DefaultLimits())
	wantProblems(t, probs,
		"d/items.yaml:7 : item 1 of List is not an object",
		"d/list.yaml:1 : document is not a Kubernetes object",
		"d/scalar.yaml:1 : document is not a Kubernetes object",
	)
	equalLines(t, described(objs), []string{"ConfigMap/ok d/items.yaml:4"})

	_, probs = RenderInProcess(repo, "nowhere", DefaultLimits())
	wantProblems(t, probs, `nowhere : path "nowhere" does not exist in the repository`)
}

func TestRenderKustomizeOriginsAndGenerators(t *testing.T) {
	objs, probs := RenderInProcess(fixtures, "shop/overlays/staging", DefaultLimits())
	wantProblems(t, probs)
	var names []string
	for _, o := range objs {
		names = append(names, o.Obj.GetName())
	}
	cmName, secretName := names[3], names[4]
	equalLines(t, described(objs), []string{
		"Deployment/shop-staging/staging-web shop/base/web.yaml:2",
		"Deployment/shop-staging/staging-worker shop/base/web.yaml:21",
		"Service/shop-staging/staging-web shop/base/service.yaml:1",
		"ConfigMap/shop-staging/" + cmName + " shop/base/kustomization.yaml:10",
		"Secret/shop-staging/" + secretName + " shop/base/kustomization.yaml:14",
		"Namespace/shop-staging shop/overlays/staging/namespace.yaml:1",
		"PodDisruptionBudget/shop-staging/staging-web shop/components/pdb/pdb.yaml:1",
	})
	if !strings.HasPrefix(cmName, "staging-web-config-") || len(cmName) != len("staging-web-config-")+10 {
		t.Errorf("generated ConfigMap name %q has no content hash suffix", cmName)
	}
	if !strings.HasPrefix(secretName, "staging-web-secret-") || len(secretName) != len("staging-web-secret-")+10 {
		t.Errorf("generated Secret name %q has no content hash suffix", secretName)
	}
	for _, o := range objs {
		if _, ok := o.Obj.GetAnnotations()["config.kubernetes.io/origin"]; ok {
			t.Errorf("%s still carries the origin annotation", refString(o.Obj))
		}
		if _, found, _ := unstructured.NestedFieldNoCopy(o.Obj.Object, "metadata", "annotations"); found && len(o.Obj.GetAnnotations()) == 0 {
			t.Errorf("%s has an empty annotations map kustomize would not emit", refString(o.Obj))
		}
	}
	if got := objs[2].Obj.GetAnnotations()["runbook"]; got != "https://runbooks.example.com/shop/web" {
		t.Errorf("the Service's own annotation was lost: %q", got)
	}
	if r, _, _ := unstructured.NestedInt64(objs[0].Obj.Object, "spec", "replicas"); r != 3 {
		t.Errorf("overlay patch not applied: replicas %d", r)
	}
	// The Deployment's references follow the generated names.
	refs, _, _ := unstructured.NestedSlice(objs[0].Obj.Object, "spec", "template", "spec", "containers")
	envFrom := refs[0].(map[string]interface{})["envFrom"].([]interface{})
	if got := envFrom[0].(map[string]interface{})["configMapRef"].(map[string]interface{})["name"]; got != cmName {
		t.Errorf("configMapRef = %v, want %s", got, cmName)
	}
	data, _, _ := unstructured.NestedStringMap(objs[3].Obj.Object, "data")
	if data["color"] != "green" || data["app.properties"] != "greeting=hello\ncolor=blue\n" {
		t.Errorf("merged ConfigMap data = %v", data)
	}
	secret, _, _ := unstructured.NestedStringMap(objs[4].Obj.Object, "data")
	if secret["password"] != base64.StdEncoding.EncodeToString([]byte("base-secret-value")) {
		t.Errorf("secret data = %v", secret)
	}
}

func TestRenderChildMatchesInProcess(t *testing.T) {
	dir := filepath.Join("testdata", "render")
	repo := fstest.MapFS{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		repo[filepath.ToSlash(rel)] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"shop/overlays/staging", "plain/apps", "invalid"} {
		want, wantProbs := RenderInProcess(repo, path, DefaultLimits())
		got, gotProbs, _ := renderChild(t, repo, path, DefaultLimits())
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotProbs, wantProbs) {
			t.Errorf("%s: child and in-process renders differ:\nchild %v %v\nin-process %v %v", path, described(got), gotProbs, described(want), wantProbs)
		}
	}
}

func TestRenderKustomizeErrors(t *testing.T) {
	repo := fstest.MapFS{
		"a/kustomization.yaml": {Data: []byte("resources: [cm.yaml]\npatches:\n  - path: p.yaml\n")},
		"a/cm.yaml":            {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")},
		"a/p.yaml":             {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: nope}\ndata: {a: b}\n")},
		"b/kustomization.yaml": {Data: []byte("resources: [../a/cm.yaml, cm.yaml]\n")},
		"b/cm.yaml":            {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\ndata:\n  a: [1,\n  b: 2\n")},
		"c/kustomization.yaml": {Data: []byte("resourcez: [cm.yaml]\n")},
		"d/kustomization.yaml": {Data: []byte("resources: [../c]\n")},
	}
	for dir, want := range map[string]string{
		"a": `a/kustomization.yaml : kustomize: no resource matches strategic merge patch "ConfigMap.v1.[noGrp]/nope.[noNs]"`,
		"b": "b/cm.yaml:11 : invalid YAML: did not find expected ',' or ']'",
		"c": `c/kustomization.yaml : kustomize: invalid Kustomization: json: unknown field "resourcez"`,
		"d": `d/kustomization.yaml : kustomize: accumulating resources: accumulation err='accumulating resources from '../c'`,
	} {
		_, probs := RenderInProcess(repo, dir, DefaultLimits())
		wantProblems(t, probs, want)
	}
}

func TestRenderKustomizeEscapeRejected(t *testing.T) {
	objs, probs := RenderInProcess(fixtures, "escape/deploy", DefaultLimits())
	wantProblems(t, probs, `escape/deploy/kustomization.yaml:2 : resources: "../../../outside" is outside the repository`)
	if len(objs) != 0 {
		t.Errorf("rendered %v", described(objs))
	}
	// Within the repository ../ still works.
	repo := fstest.MapFS{
		"deploy/prod/kustomization.yaml": {Data: []byte("resources:\n  - ../../shared\n  - ../../../../etc\n  - missing.yaml\n")},
		"shared/kustomization.yaml":      {Data: []byte("resources: [cm.yaml]\n")},
		"shared/cm.yaml":                 {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\n")},
	}
	_, probs = RenderInProcess(repo, "deploy/prod", DefaultLimits())
	wantProblems(t, probs,
		`deploy/prod/kustomization.yaml:3 : resources: "../../../../etc" is outside the repository`,
		`deploy/prod/kustomization.yaml:4 : resources: "missing.yaml" does not exist in the repository`,
	)
	delete(repo, "deploy/prod/kustomization.yaml")
	repo["deploy/prod/kustomization.yaml"] = &fstest.MapFile{Data: []byte("resources:\n  - ../../shared\n")}
	objs, probs = RenderInProcess(repo, "deploy/prod", DefaultLimits())
	wantProblems(t, probs)
	equalLines(t, described(objs), []string{"ConfigMap/shared shared/cm.yaml:1"})
}

func TestRenderRemoteReferencesRejectedWithoutNetwork(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fetched}\n")
	}))
	defer srv.Close()
	repo := fstest.MapFS{
		"deploy/kustomization.yaml": {Data: []byte(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
commonAnnotations:
  docs: https://docs.example.com
resources:
  - ` + srv.URL + `/cm.yaml
  - github.com/kubernetes-sigs/kustomize/examples/helloWorld?ref=v3.3.1
  - git@github.com:example/private.git
  - ../base
patches:
  - path: ` + srv.URL + `/patch.yaml
configMapGenerator:
  - name: settings
    literals: [url=https://example.com]
    files: [` + srv.URL + `/settings.properties]
`)},
		"base/kustomization.yaml": {Data: []byte("components:\n  - git::https://example.com/org/repo//component\n")},
	}
	objs, probs, took := renderChild(t, repo, "deploy", DefaultLimits())
	wantProblems(t, probs,
		`deploy/kustomization.yaml:6 : resources: "`+srv.URL+`/cm.yaml" is a remote reference`,
		`deploy/kustomization.yaml:7 : resources: "github.com/kubernetes-sigs/kustomize/examples/helloWorld?ref=v3.3.1" is a remote reference`,
		`deploy/kustomization.yaml:8 : resources: "git@github.com:example/private.git" is a remote reference`,
		`base/kustomization.yaml:2 : components: "git::https://example.com/org/repo//component" is a remote reference`,
		`deploy/kustomization.yaml:11 : patches: "`+srv.URL+`/patch.yaml" is a remote reference`,
		`deploy/kustomization.yaml:15 : configMapGenerator: "`+srv.URL+`/settings.properties" is a remote reference`,
	)
	if len(objs) != 0 {
		t.Errorf("rendered %v", described(objs))
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the render made %d HTTP requests", n)
	}
	if took > 5*time.Second {
		t.Errorf("took %s: a network attempt?", took)
	}
}

// billionLaughs is a "billion laughs": 9 levels of 9 aliases, about 400
// million nodes when expanded, in under 1 KB.
func billionLaughs() string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\nx:\n")
	b.WriteString("  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "  a%d: &a%d [", i, i)
		for j := 0; j < 9; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

func TestRenderAliasBombFailsFast(t *testing.T) {
	repo := fstest.MapFS{
		"plain/bomb.yaml":              {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine}\n---\n" + billionLaughs())},
		"kust/kustomization.yaml":      {Data: []byte("resources: [bomb.yaml]\n")},
		"kust/bomb.yaml":               {Data: []byte(billionLaughs())},
		"kustpatch/kustomization.yaml": {Data: []byte("resources: [../plain-ok]\npatches:\n  - path: p.yaml\n")},
		"kustpatch/p.yaml":             {Data: []byte(billionLaughs())},
		"plain-ok/kustomization.yaml":  {Data: []byte("resources: [cm.yaml]\n")},
		"plain-ok/cm.yaml":             {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n")},
	}
	for path, want := range map[string]string{
		"plain":     "plain/bomb.yaml:5 : YAML aliases expand this document to more than 1000000 nodes",
		"kust":      "kust/bomb.yaml:1 : YAML aliases expand this document to more than 1000000 nodes",
		"kustpatch": "kustpatch/p.yaml:1 : YAML aliases expand this document to more than 1000000 nodes",
	} {
		_, probs, took := renderChild(t, repo, path, DefaultLimits())
		wantProblems(t, probs, want)
		if took > time.Second {
			t.Errorf("%s: alias bomb took %s to reject", path, took)
		}
	}
}

// manyConfigMaps is a kustomization over n ConfigMaps in one file, with
// transformers that touch every object: legal, and slow to build when n is
// large.
func manyConfigMaps(n int, dataBytes int) fstest.MapFS {
	var b strings.Builder
	value := strings.Repeat("x", dataBytes)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\n  labels: {i: \"%d\"}\ndata:\n  v: %s\n", i, i, value)
	}
	return fstest.MapFS{
		"big/kustomization.yaml": {Data: []byte("namePrefix: p-\nnamespace: big\ncommonLabels: {team: a}\ncommonAnnotations: {note: b}\nresources: [cms.yaml]\n")},
		"big/cms.yaml":           {Data: []byte(b.String())},
	}
}

func TestRenderKilledAtTimeLimit(t *testing.T) {
	repo := manyConfigMaps(600, 10)
	start := time.Now()
	objs, probs := RenderInProcess(repo, "big", DefaultLimits())
	normal := time.Since(start)
	if len(probs) != 0 || len(objs) != 600 {
		t.Fatalf("the input does not render: %d objects, %v", len(objs), problemStrings(probs))
	}
	timeout := 150 * time.Millisecond
	if normal < 3*timeout {
		t.Fatalf("the input renders in %s, too fast to test a %s limit with: make it bigger", normal, timeout)
	}
	lim := DefaultLimits()
	lim.Timeout = timeout
	objs, probs, took := renderChild(t, repo, "big", lim)
	wantProblems(t, probs, " : render killed: exceeded the 150ms time limit")
	if len(objs) != 0 || took > timeout+2*time.Second {
		t.Errorf("%d objects after %s", len(objs), took)
	}
}

func TestRenderKilledAtMemoryLimit(t *testing.T) {
	repo := manyConfigMaps(2000, 8<<10) // 16 MiB of YAML
	delete(repo, "big/kustomization.yaml")
	// The default memory limit, and time enough on a loaded machine: this
	// test is about memory (under a load of 30 the render took over 10 s).
	lim := DefaultLimits()
	lim.Timeout = 3 * time.Minute
	objs, probs, took := renderChild(t, repo, "big", lim)
	if len(probs) != 0 || len(objs) != 2000 {
		t.Fatalf("within the default memory limit: %d objects, %v", len(objs), problemStrings(probs))
	}
	t.Logf("rendered 2000 objects from 16 MiB in %s", took)
	lim.MemoryBytes = 64 << 20
	objs, probs, took = renderChild(t, repo, "big", lim)
	wantProblems(t, probs, " : render killed: exceeded the 64 MiB memory limit")
	if len(objs) != 0 {
		t.Errorf("%d objects after %s", len(objs), took)
	}
	t.Logf("killed after %s", took)
}

func TestRenderSizeAndCountLimits(t *testing.T) {
	plain := fstest.MapFS{
		"d/a.yaml": {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n")},
		"d/b.yaml": {Data: []byte("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: d}}\n")},
	}
	lim := DefaultLimits()
	lim.MaxObjects = 3
	_, probs, _ := renderChild(t, plain, "d", lim)
	wantProblems(t, probs, " : render produced more than 3 objects (the limit)")
	_, probs = RenderInProcess(manyConfigMaps(4, 1), "big", lim)
	wantProblems(t, probs, " : render produced more than 3 objects (the limit)")

	lim = DefaultLimits()
	lim.MaxRepoBytes = 100
	_, probs, _ = renderChild(t, plain, "d", lim)
	wantProblems(t, probs, " : repository is larger than the 100 bytes limit")

	lim = DefaultLimits()
	lim.MaxDocumentBytes = 60
	objs, probs, _ := renderChild(t, plain, "d", lim)
	wantProblems(t, probs, "d/b.yaml:1 : document is 147 bytes, over the 60 bytes limit")
	equalLines(t, described(objs), []string{"ConfigMap/a d/a.yaml:1", "ConfigMap/b d/a.yaml:5"})
}

func TestRenderDoesNotFollowSymlinks(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "host-secret.yaml")
	if err := os.WriteFile(outside, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: host-file}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	repo := t.TempDir()
	for dir, files := range map[string]map[string]string{
		"plain": {"ok.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n"},
		"kust":  {"kustomization.yaml": "resources:\n  - linked.yaml\n"},
	} {
		os.MkdirAll(filepath.Join(repo, dir), 0o755)
		for name, data := range files {
			os.WriteFile(filepath.Join(repo, dir, name), []byte(data), 0o600)
		}
		if err := os.Symlink(outside, filepath.Join(repo, dir, "linked.yaml")); err != nil {
			t.Fatal(err)
		}
	}
	objs, probs := RenderInProcess(os.DirFS(repo), "plain", DefaultLimits())
	wantProblems(t, probs)
	equalLines(t, described(objs), []string{"ConfigMap/ok plain/ok.yaml:1"})
	_, probs = RenderInProcess(os.DirFS(repo), "kust", DefaultLimits())
	wantProblems(t, probs, `kust/kustomization.yaml:2 : resources: "linked.yaml" is a symbolic link; renders do not follow links`)
	objs, probs, err := testRenderer(t, DefaultLimits()).Render(context.Background(), os.DirFS(repo), config.Environment{Path: "plain"})
	if err != nil {
		t.Fatal(err)
	}
	wantProblems(t, probs)
	equalLines(t, described(objs), []string{"ConfigMap/ok plain/ok.yaml:1"})
}

func TestRenderChildFailures(t *testing.T) {
	r := &Renderer{Exe: filepath.Join(t.TempDir(), "no-such-binary")}
	if _, _, err := r.Render(context.Background(), fstest.MapFS{}, config.Environment{Name: "dev", Path: "."}); err == nil || !strings.Contains(err.Error(), "start render child") {
		t.Errorf("missing binary: %v", err)
	}
	// A child that answers garbage is a failure, not a result.
	r = &Renderer{Exe: "/bin/sh", Args: []string{"-c", "echo not json"}}
	if _, _, err := r.Render(context.Background(), fstest.MapFS{}, config.Environment{Name: "dev", Path: "."}); err == nil || !strings.Contains(err.Error(), "decode render result") {
		t.Errorf("garbage answer: %v", err)
	}
	// A crash reports the runtime's first line only: the rest of stderr
	// could quote repository content.
	r = &Renderer{Exe: "/bin/sh", Args: []string{"-c", "echo 'panic: boom' >&2; echo 'password: hunter2' >&2; exit 2"}}
	_, _, err := r.Render(context.Background(), fstest.MapFS{}, config.Environment{Name: "dev", Path: "."})
	if err == nil || !strings.Contains(err.Error(), "exit status 2): panic: boom") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("crash: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := testRenderer(t, DefaultLimits()).Render(ctx, fstest.MapFS{}, config.Environment{Name: "dev", Path: "."}); err == nil {
		t.Error("a cancelled context rendered")
	}
}

func FuzzDecodeManifests(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n- x\n"))
	f.Add([]byte(billionLaughs()))
	f.Add([]byte("apiVersion: v1\nkind: List\nitems: [1, {a: b}]\n"))
	f.Add([]byte("{\"a\": [1, 2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, probs, _ := decodeManifests("f.yaml", data, DefaultLimits(), DefaultMaxObjects)
		for _, p := range probs {
			if p.Source.File != "f.yaml" || p.Source.Line < 1 {
				t.Errorf("problem without a line: %+v", p)
			}
		}
		for _, o := range objs {
			if o.Obj == nil || o.Source.Line < 1 {
				t.Errorf("object without a line: %+v", o)
			}
		}
	})
}
