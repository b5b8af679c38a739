package applier

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/rs/zerolog"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/internal/kubetest"
	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/planner"
)

var cluster *kubetest.Cluster

func TestMain(m *testing.M) {
	kubetest.Main(m, &cluster, kubetest.WithUsers("tugboat", "limited"))
}

// inProcessRenderer renders in the test process: test repositories are
// trusted, and the child-process sandbox is the planner's to test.
type inProcessRenderer struct{}

func (inProcessRenderer) Render(_ context.Context, repo fs.FS, env config.Environment) ([]planner.Object, []planner.Problem, error) {
	objs, probs := planner.RenderInProcess(repo, env.Path, planner.DefaultLimits())
	return objs, probs, nil
}

// testEnv is one repository's environment in the test cluster.
type testEnv struct {
	t       testing.TB
	files   fstest.MapFS
	in      planner.Input
	planner *planner.Planner
	applier *Applier
	kc      *kube.Cluster
}

func newTestEnv(t testing.TB, repo, env string, cfg *rest.Config) *testEnv {
	t.Helper()
	reg := kube.NewRegistry(nil)
	if err := reg.AddConfig("test", cfg); err != nil {
		t.Fatal(err)
	}
	kc, err := reg.Cluster("test")
	if err != nil {
		t.Fatal(err)
	}
	p := &planner.Planner{Clusters: reg, DigestKey: []byte("0123456789abcdef0123456789abcdef"), Renderer: inProcessRenderer{}}
	e := &testEnv{
		t:     t,
		files: fstest.MapFS{},
		in: planner.Input{
			RepoName: repo,
			Commit:   "0000000000000000000000000000000000000001",
			Env: config.Environment{
				Name: env, Cluster: "test", Path: "deploy", Prune: true, Wait: 90 * time.Second,
				Apply: config.ApplyOnComment,
			},
		},
		planner: p,
		applier: &Applier{Planner: p, Clusters: reg},
		kc:      kc,
	}
	e.in.Repo = e.files
	return e
}

// put sets the file deploy/name to the given manifests.
func (e *testEnv) put(name string, docs ...string) {
	e.files["deploy/"+name] = &fstest.MapFile{Data: []byte(strings.Join(docs, "\n---\n"))}
}

func (e *testEnv) remove(name string) { delete(e.files, "deploy/"+name) }

func (e *testEnv) plan(ctx context.Context) *planner.Plan {
	e.t.Helper()
	p, err := e.planner.Plan(ctx, e.in)
	if err != nil {
		e.t.Fatalf("plan: %v", err)
	}
	return p
}

// apply plans, then applies the plan just shown.
func (e *testEnv) apply(ctx context.Context, opts Options) (*Result, error) {
	e.t.Helper()
	p := e.plan(ctx)
	return e.applier.Apply(ctx, p.Digest, e.in, opts)
}

// mustConverge applies and fails the test unless the environment converged.
func (e *testEnv) mustConverge(ctx context.Context) *Result {
	e.t.Helper()
	res, err := e.apply(ctx, Options{})
	if err != nil {
		e.t.Fatalf("apply: %v\n%s", err, reportString(res))
	}
	if !res.Converged() {
		e.t.Fatalf("not converged:\n%s", reportString(res))
	}
	return res
}

func (e *testEnv) set() kube.ApplySet { return kube.ApplySet{Repo: e.in.RepoName, Env: e.in.Env.Name} }

func reportString(res *Result) string {
	if res == nil {
		return "(no result)"
	}
	var b strings.Builder
	WriteReport(&b, res)
	return b.String()
}

var (
	gvrConfigMap  = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	gvrDeployment = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	gvrNamespace  = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	gvrSecret     = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
)

// get reads an object as admin; nil when it does not exist.
func get(t testing.TB, gvr schema.GroupVersionResource, ns, name string) *unstructured.Unstructured {
	t.Helper()
	dyn := adminDynamic(t)
	o, err := dyn.Resource(gvr).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatalf("get %s %s/%s: %v", gvr.Resource, ns, name, err)
	}
	return o
}

// ctxFor is a test's context: a deadline, and a logger writing warnings to
// the test's output (planner and applier log through the context).
func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel).WithContext(ctx)
}

func namespaceYAML(name string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", name)
}

func configMapYAML(ns, name string, data map[string]string, annotations ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\n", name, ns)
	if len(annotations) > 0 {
		b.WriteString("  annotations:\n")
		for i := 0; i+1 < len(annotations); i += 2 {
			fmt.Fprintf(&b, "    %s: %q\n", annotations[i], annotations[i+1])
		}
	}
	b.WriteString("data:\n")
	for k, v := range data {
		fmt.Fprintf(&b, "  %s: %q\n", k, v)
	}
	return b.String()
}

func deploymentYAML(ns, name, image string, replicas int) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[2]s
  namespace: %[1]s
spec:
  replicas: %[4]d
  selector:
    matchLabels: {app: %[2]s}
  template:
    metadata:
      labels: {app: %[2]s}
    spec:
      containers:
      - name: app
        image: %[3]s
`, ns, name, image, replicas)
}

func adminDynamic(t testing.TB) dynamic.Interface {
	t.Helper()
	d, err := dynamic.NewForConfig(cluster.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// uniqueName is prefix plus a random suffix, so a test that makes its own
// namespace and repository can run again (-count) against the same cluster.
func uniqueName(prefix string) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}
