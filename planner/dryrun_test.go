package planner

import (
	"net"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/tugboatops/tugboat/internal/kubetest"
)

// waitForKind waits until the cluster serves group's kind (a CRD just
// applied becomes established within a moment).
func waitForKind(t *testing.T, f *fixture, group, kind string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, known, err := f.kc.IsNamespaced(schema.GroupVersionKind{Group: group, Version: "v1", Kind: kind})
		if err == nil && known {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("kind %s.%s not served after 30s (err %v)", kind, group, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func deployment(selector string) string {
	return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: {{NS}}
spec:
  replicas: 0
  selector: {matchLabels: {app: ` + selector + `}}
  template:
    metadata: {labels: {app: ` + selector + `}}
    spec:
      containers: [{name: web, image: nginx:1.27}]
`
}

func TestPlanImmutableField(t *testing.T) {
	f := newFixture(t, cluster)
	f.createNamespace()
	f.apply(deployment("web"))
	p := f.plan(f.env(), f.files("deploy/web.yaml", deployment("web-v2")), nil)
	if len(p.Problems) != 1 {
		t.Fatalf("want one problem, got:\n%s", describe(p))
	}
	pr := p.Problems[0]
	if !strings.HasPrefix(pr.Message, "needs replacement: spec.selector") {
		t.Errorf("message %q, want needs replacement: spec.selector", pr.Message)
	}
	if pr.Object != "Deployment/"+f.ns+"/web" || pr.Source.File != "deploy/web.yaml" || pr.Source.Line == 0 {
		t.Errorf("problem located at %q %+v", pr.Object, pr.Source)
	}
}

func TestPlanAdmissionRejectedByQuota(t *testing.T) {
	f := newFixture(t, cluster)
	f.createNamespace()
	f.applyAs("setup", false, `apiVersion: v1
kind: ResourceQuota
metadata: {name: no-services, namespace: {{NS}}}
spec:
  hard: {services: "0"}
`)
	head := f.files("deploy/svc.yaml", `apiVersion: v1
kind: Service
metadata: {name: web, namespace: {{NS}}}
spec:
  ports: [{port: 80}]
  selector: {app: web}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: fine, namespace: {{NS}}}
`)
	// The quota controller fills in the quota's status asynchronously;
	// admission refuses only once it has.
	var p *Plan
	deadline := time.Now().Add(30 * time.Second)
	for {
		p = f.plan(f.env(), head, nil)
		if len(p.Problems) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	if len(p.Problems) != 1 {
		t.Fatalf("want one problem, got:\n%s", describe(p))
	}
	pr := p.Problems[0]
	if pr.Object != "Service/"+f.ns+"/web" || !strings.Contains(pr.Message, "exceeded quota: no-services") {
		t.Errorf("problem %q: %q", pr.Object, pr.Message)
	}
	if c := change(t, p, "ConfigMap", "fine"); c.Action != ActionCreate {
		t.Errorf("the other object: %s", c.Action)
	}
}

func TestPlanAdmissionRejectedByPolicy(t *testing.T) {
	f := newFixture(t, cluster)
	f.createNamespace()
	f.applyAs("setup", false, `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: {{NS}}-team-label}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: [v1]
      operations: [CREATE, UPDATE]
      resources: [configmaps]
  validations:
  - expression: "has(object.metadata.labels) && 'team' in object.metadata.labels"
    message: "every ConfigMap needs a team label"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: {{NS}}-team-label}
spec:
  policyName: {{NS}}-team-label
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels: {kubernetes.io/metadata.name: {{NS}}}
`)
	head := f.files("deploy/cm.yaml", `apiVersion: v1
kind: ConfigMap
metadata: {name: unlabelled, namespace: {{NS}}}
`)
	var p *Plan
	deadline := time.Now().Add(30 * time.Second)
	for {
		p = f.plan(f.env(), head, nil)
		if len(p.Problems) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	if len(p.Problems) != 1 || !strings.Contains(p.Problems[0].Message, "every ConfigMap needs a team label") {
		t.Fatalf("want the policy's message as the one problem, got:\n%s", describe(p))
	}
	if p.Problems[0].Object != "ConfigMap/"+f.ns+"/unlabelled" {
		t.Errorf("problem object %q", p.Problems[0].Object)
	}
}

// manyConfigMaps renders n ConfigMaps into one file.
func unreachableConfigMaps(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-")
		b.WriteString(strings.Repeat("x", i%3+1))
		b.WriteString(string(rune('a' + i%26)))
		b.WriteString(string(rune('a' + i/26)))
		b.WriteString("\n  namespace: {{NS}}\ndata: {k: v}\n")
	}
	return b.String()
}

func TestPlanUnreachableCluster(t *testing.T) {
	// A port nobody listens on (connection refused) and a server that
	// accepts connections but never answers (a black hole): either way one
	// problem for the environment, quickly.
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedAddr := refused.Addr().String()
	refused.Close()
	hole, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hole.Close()
	go func() {
		for {
			c, err := hole.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	for name, addr := range map[string]string{"refused": refusedAddr, "blackhole": hole.Addr().String()} {
		t.Run(name, func(t *testing.T) {
			f := newFixtureFor(t, &rest.Config{Host: "https://" + addr, BearerToken: "x",
				TLSClientConfig: rest.TLSClientConfig{Insecure: true}})
			f.planner.PingTimeout = 2 * time.Second
			start := time.Now()
			p := f.plan(f.env(), f.files("deploy/cms.yaml", unreachableConfigMaps(50)), nil)
			if took := time.Since(start); took > 20*time.Second {
				t.Errorf("took %s", took)
			}
			if len(p.Problems) != 1 || len(p.Changes) != 0 {
				t.Fatalf("want exactly one problem and no changes, got:\n%s", describe(p))
			}
			if msg := p.Problems[0].Message; !strings.Contains(msg, "cluster test is unreachable") {
				t.Errorf("message %q", msg)
			}
		})
	}
}

func TestPlanRejectsUnknownFields(t *testing.T) {
	f := newFixture(t, cluster)
	f.createNamespace()
	typo := strings.Replace(deployment("web"), "  replicas: 0\n", "  replica: 0\n", 1)
	p := f.plan(f.env(), f.files("deploy/web.yaml", typo), nil)
	if len(p.Problems) != 1 || !strings.Contains(p.Problems[0].Message, ".spec.replica: field not declared in schema") {
		t.Fatalf("a misspelt field must be a problem, not silently dropped:\n%s", describe(p))
	}
}

func TestPlanSurvivesAnAPIServerRestart(t *testing.T) {
	own := kubetest.Start(t, kubetest.WithName("restart"))
	f := newFixture(t, own)
	head := f.files("deploy/all.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: {{NS}}}\n---\n"+unreachableConfigMaps(30))
	before := f.plan(f.env(), head, nil)
	noProblems(t, before)

	if err := own.Stop(); err != nil {
		t.Fatal(err)
	}
	f.planner.PingTimeout = 2 * time.Second
	down := f.plan(f.env(), head, nil)
	if len(down.Problems) != 1 || len(down.Changes) != 0 || !strings.Contains(down.Problems[0].Message, "is unreachable") {
		t.Fatalf("apiserver down: want one problem, got:\n%s", describe(down))
	}

	// The registry's cached client bundle reconnects once it is back.
	if err := own.Restart(f.ctx); err != nil {
		t.Fatal(err)
	}
	after := f.plan(f.env(), head, nil)
	noProblems(t, after)
	if before.Digest != after.Digest || after.Counts().Create != 31 {
		t.Errorf("after the restart: %+v, digest %s (was %s)", after.Counts(), after.Digest, before.Digest)
	}
}
