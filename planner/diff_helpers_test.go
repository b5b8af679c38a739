package planner

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/rs/zerolog"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"

	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/internal/kubetest"
	"github.com/tugboatops/tugboat/kube"
)

// syncBuffer collects the planner's logs from concurrent goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fixture is one test's view of a cluster: its own namespace, its own
// repository name (so its ApplySet is its own) and a planner whose logs
// are captured at debug level.
type fixture struct {
	t       *testing.T
	ctx     context.Context
	kc      *kube.Cluster
	ns      string
	repo    string
	logs    *syncBuffer
	planner *Planner
}

var testDigestKey = []byte("0123456789abcdef0123456789abcdef")

func newFixture(t *testing.T, c *kubetest.Cluster) *fixture {
	t.Helper()
	return newFixtureFor(t, c.RESTConfig())
}

func newFixtureFor(t *testing.T, cfg *rest.Config) *fixture {
	t.Helper()
	reg := kube.NewRegistry(nil)
	if err := reg.AddConfig("test", cfg); err != nil {
		t.Fatal(err)
	}
	kc, err := reg.Cluster("test")
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	name := strings.ToLower(regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-"))
	if len(name) > 40 {
		name = name[:40]
	}
	ns := strings.Trim(name, "-") + "-" + hex.EncodeToString(suffix)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	// The planner logs through the context.
	ctx = zerolog.New(logs).Level(zerolog.DebugLevel).WithContext(ctx)
	return &fixture{
		t: t, ctx: ctx, kc: kc, ns: ns, repo: "acme/" + ns, logs: logs,
		planner: &Planner{
			Clusters:  reg,
			DigestKey: testDigestKey,
			Renderer:  &Renderer{Exe: exe, Env: []string{"TUGBOAT_RENDER_CHILD=1"}},
		},
	}
}

// env is the test's environment: everything under deploy/, namespace
// defaulted to the test's own.
func (f *fixture) env() config.Environment {
	return config.Environment{Name: "test", Cluster: "test", Path: "deploy", Namespace: f.ns, Apply: config.ApplyOnComment}
}

// nsPlaceholder stands for the test's namespace in fixture YAML. Fixtures
// also hold random markers and their base64, so the placeholder must be
// something neither can contain: base64 and hex have no braces (a bare
// "NS" once turned up inside a marker's base64 and broke it).
const nsPlaceholder = "{{NS}}"

// expand replaces the namespace placeholder with the test's namespace.
func (f *fixture) expand(y string) string {
	return strings.ReplaceAll(y, nsPlaceholder, f.ns)
}

// files builds a repository from file name → YAML, with {{NS}} replaced by
// the test's namespace.
func (f *fixture) files(kv ...string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for i := 0; i+1 < len(kv); i += 2 {
		fsys[kv[i]] = &fstest.MapFile{Data: []byte(f.expand(kv[i+1]))}
	}
	return fsys
}

func (f *fixture) plan(env config.Environment, head, base fstest.MapFS) *Plan {
	f.t.Helper()
	in := Input{Repo: head, RepoName: f.repo, Env: env, Commit: "head"}
	if base != nil {
		in.BaseRepo = base
	}
	p, err := f.planner.Plan(f.ctx, in)
	if err != nil {
		f.t.Fatalf("Plan: %v", err)
	}
	return p
}

// createNamespace creates the test's namespace (for tests where it is not
// part of the plan).
func (f *fixture) createNamespace() {
	f.t.Helper()
	f.applyAs("setup", false, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{NS}}\n")
}

// apply applies YAML the way the applier does: field manager tugboat,
// ApplySet member labels of the test's repository.
func (f *fixture) apply(y string) {
	f.t.Helper()
	f.applyAs(kube.FieldManager, true, y)
}

// applyAs applies YAML with another field manager (a person, a controller),
// with or without tugboat's member labels.
func (f *fixture) applyAs(manager string, member bool, y string) {
	f.t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(f.expand(y)), 4096)
	for {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); err != nil {
			if err.Error() == "EOF" {
				return
			}
			f.t.Fatalf("decode setup YAML: %v", err)
		}
		if len(obj.Object) == 0 {
			continue
		}
		labels := map[string]string{}
		if member {
			labels = kube.ApplySet{Repo: f.repo, Env: "test"}.MemberLabels()
		}
		sent := PrepareForApply(obj, labels, nil)
		// Setup YAML stands for what other tools write too: keep the
		// annotations it gives (client-side apply's last-applied copy).
		sent.SetAnnotations(obj.GetAnnotations())
		body, err := sent.MarshalJSON()
		if err != nil {
			f.t.Fatal(err)
		}
		gvk := obj.GroupVersionKind()
		m, err := f.kc.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			f.t.Fatalf("map %s: %v", gvk, err)
		}
		force := true
		_, err = f.kc.Dynamic.Resource(m.Resource).Namespace(obj.GetNamespace()).Patch(f.ctx, obj.GetName(),
			types.ApplyPatchType, body, metav1.PatchOptions{FieldManager: manager, Force: &force})
		if err != nil {
			f.t.Fatalf("apply %s %s: %v", gvk.Kind, obj.GetName(), err)
		}
	}
}

// change returns the plan's change of kind/name, failing the test when
// there is none.
func change(t *testing.T, p *Plan, kind, name string) Change {
	t.Helper()
	for _, c := range p.Changes {
		if c.Ref.Kind == kind && c.Ref.Name == name {
			return c
		}
	}
	t.Fatalf("no change for %s/%s in plan:\n%s", kind, name, describe(p))
	return Change{}
}

func hasChange(p *Plan, kind, name string) bool {
	for _, c := range p.Changes {
		if c.Ref.Kind == kind && c.Ref.Name == name {
			return true
		}
	}
	return false
}

// describe prints a plan for failure messages.
func describe(p *Plan) string {
	var b strings.Builder
	for _, c := range p.Changes {
		fmt.Fprintf(&b, "%s %s fromPR=%v\n%s", c.Action, c.Ref, c.FromPR, c.Diff)
	}
	for _, pr := range p.Problems {
		fmt.Fprintf(&b, "problem %s:%d %s: %s\n", pr.Source.File, pr.Source.Line, pr.Object, pr.Message)
	}
	return b.String()
}

func noProblems(t *testing.T, p *Plan) {
	t.Helper()
	if len(p.Problems) > 0 {
		t.Fatalf("unexpected problems:\n%s", describe(p))
	}
}

// TestFixturePlaceholderLeavesRandomDataAlone: fixtures carry random
// markers as hex and base64; expanding the namespace placeholder must never
// touch them, whatever the random bytes were.
func TestFixturePlaceholderLeavesRandomDataAlone(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_"
	var b strings.Builder
	for _, x := range alphabet {
		for _, y := range alphabet {
			b.WriteRune(x)
			b.WriteRune(y)
			b.WriteByte(' ')
		}
	}
	data := b.String()
	f := &fixture{ns: "the-namespace"}
	if got := f.expand(data); got != data {
		t.Errorf("expanding the placeholder changed base64/hex text (placeholder %q)", nsPlaceholder)
	}
	if got := f.expand("namespace: " + nsPlaceholder); got != "namespace: the-namespace" {
		t.Errorf("placeholder not expanded: %q", got)
	}
}
