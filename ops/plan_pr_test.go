package ops

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/internal/githubtest"
	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/planner"
)

// countingRenderer renders in the test process (the repository is the
// test's own) and counts renders by environment and tree, telling the base
// tree from the merge by the color in base/settings.yaml.
type countingRenderer struct {
	mu    sync.Mutex
	count map[string]int
}

func (c *countingRenderer) Render(_ context.Context, repo fs.FS, env config.Environment) ([]planner.Object, []planner.Problem, error) {
	data, err := fs.ReadFile(repo, "base/settings.yaml")
	if err != nil {
		return nil, nil, err
	}
	tree := "base"
	if strings.Contains(string(data), "green") {
		tree = "merge"
	}
	c.mu.Lock()
	c.count[env.Name+"@"+tree]++
	c.mu.Unlock()
	objs, probs := planner.RenderInProcess(repo, env.Path, planner.DefaultLimits())
	return objs, probs, nil
}

func (c *countingRenderer) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var parts []string
	for k, n := range c.count {
		parts = append(parts, fmt.Sprintf("%s:%d", k, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// An environment affected only through files outside its path (a
// Kustomize base) is rendered, base and merge, to find that out; its plan
// uses those renders instead of rendering both again. Every render of the
// run happens once.
func TestPlanPRRendersEachTreeOncePerEnvironment(t *testing.T) {
	ns := testNamespace(t)
	s := githubtest.New(t, githubtest.WithLogf(func(string, ...any) {}))
	const repoName = "acme/infra"
	s.CreateRepo(repoName, githubtest.RepoOptions{Files: map[string]string{
		".tugboat.yaml": fmt.Sprintf(`version: 1
environments:
  staging:
    cluster: test
    path: deploy/staging
    namespace: %[1]s
    apply: on-comment
  prod:
    cluster: test
    path: deploy/prod
    namespace: %[1]s
`, ns),
		"base/kustomization.yaml":           "resources: [settings.yaml]\n",
		"base/settings.yaml":                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {color: blue}\n",
		"deploy/staging/kustomization.yaml": "resources: [../../base]\nnamePrefix: staging-\n",
		"deploy/prod/app.yaml":              "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: prod-app}\ndata: {color: blue}\n",
	}})
	installation := s.CreateInstallation("acme")
	s.Branch(repoName, "greener", "main")
	s.Commit(repoName, "greener", map[string]string{
		"base/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {color: green}\n",
	}, "greener settings")
	n := s.OpenPR(repoName, githubtest.PROptions{Head: "greener", Title: "Greener settings"})

	renders := &countingRenderer{count: map[string]int{}}
	reg := kube.NewRegistry(nil)
	if err := reg.AddConfig("test", cluster.RESTConfig()); err != nil {
		t.Fatal(err)
	}
	pl := &planner.Planner{Clusters: reg, DigestKey: []byte("0123456789abcdef0123456789abcdef"), Renderer: renders}
	o := New(Engines{Planner: pl, Renderer: renders, State: newMemState()}, Options{BotLogin: s.Bot().Login})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := o.PlanPR(ctx, PlanRequest{PR: PR{Client: emulatorClient(t, s, installation), Repo: gh.Repo{Owner: "acme", Name: "infra"}, Number: n}})
	if err != nil {
		t.Fatal(err)
	}

	// staging: affected through base/, so rendered base and merge to find
	// out, and planned from those renders. prod: rendered both to find it
	// is not affected.
	if got, want := renders.String(), "prod@base:1 prod@merge:1 staging@base:1 staging@merge:1"; got != want {
		t.Errorf("renders = %s, want %s", got, want)
	}
	pr := s.PR(repoName, n)
	runs := map[string]githubtest.CheckRun{}
	for _, r := range s.CheckRuns(repoName, pr.HeadSHA) {
		runs[r.Name] = r
	}
	if r := runs[CheckPrefix+"staging"]; r.Conclusion != comments.ConclusionActionRequired {
		t.Errorf("tugboat/staging = %s %q, want %s", r.Conclusion, r.Summary, comments.ConclusionActionRequired)
	}
	if r, ok := runs[CheckPrefix+"prod"]; ok {
		t.Errorf("prod is not affected, yet has a check run: %s %q", r.Conclusion, r.Summary)
	}
	var body string
	for _, c := range s.Comments(repoName, n) {
		body += c.Body
	}
	if !strings.Contains(body, "staging-settings") || !strings.Contains(body, "green") {
		t.Errorf("plan comment does not show the update of staging-settings:\n%s", body)
	}
}

// emulatorClient is the installation's client, wired as `bot serve` wires
// it (go-githubapp's client creator with gh's Transport).
func emulatorClient(t *testing.T, s *githubtest.Server, installation int64) *gh.Client {
	t.Helper()
	app := s.App()
	m := gh.NewMetrics(prometheus.NewRegistry())
	cc := githubapp.NewClientCreator(s.URL()+"/api/v3/", s.URL()+"/api/graphql", app.ID, app.PrivateKeyPEM,
		githubapp.WithClientMiddleware(gh.Middleware(gh.RetryPolicy{Backoff: 10 * time.Millisecond}, m)))
	f := &gh.Factory{Creator: cc, Download: &http.Client{Transport: &gh.Transport{Metrics: m}}}
	c, err := f.Installation(installation)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testNamespace creates a namespace of the test's own in the cluster.
func testNamespace(t *testing.T) string {
	t.Helper()
	b := make([]byte, 3)
	rand.Read(b)
	name := "ops-" + hex.EncodeToString(b)
	_, err := cluster.Client().CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	return name
}
