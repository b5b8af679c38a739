package planner

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"k8s.io/client-go/rest"
)

// wireLog records every request the planner makes and every response
// body it reads, to tell what crossed the wire.
type wireLog struct {
	mu       sync.Mutex
	requests []string // "METHOD path?query"
	bodies   bytes.Buffer
}

func (w *wireLog) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(r)
		w.mu.Lock()
		w.requests = append(w.requests, r.Method+" "+r.URL.RequestURI())
		w.mu.Unlock()
		if err == nil {
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			w.mu.Lock()
			w.bodies.Write(data)
			w.mu.Unlock()
			resp.Body = io.NopCloser(bytes.NewReader(data))
		}
		return resp, err
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestPlanNeverReadsUnrelatedSecrets: a namespace holding a large Secret
// that is none of the plan's business (a Helm release's, say) beside the
// Secrets the plan renders — members applied before, objects some other
// tool made, new ones, enough of them that the planner LISTs — is planned
// without that Secret ever being read: members are LISTed by their
// ApplySet label, the rest read by name.
func TestPlanNeverReadsUnrelatedSecrets(t *testing.T) {
	wire := &wireLog{}
	cfg := rest.CopyConfig(cluster.RESTConfig())
	cfg.WrapTransport = wire.wrap
	f := newFixtureFor(t, cfg)
	f.createNamespace()
	raw := make([]byte, 8)
	_, _ = rand.Read(raw)
	marker := "helmblob" + hex.EncodeToString(raw)
	f.applyAs("helm", false, fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata: {name: sh.helm.release.v1.web.v1, namespace: {{NS}}}
type: helm.sh/release.v1
data:
  release: %s
`, b64(marker+strings.Repeat("x", 512<<10))))

	secret := func(name string) string {
		return fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: {{NS}}}\nstringData: {key: value-of-%s}\n---\n", name, name)
	}
	var all strings.Builder
	var members, others strings.Builder
	for i := range 6 {
		members.WriteString(secret(fmt.Sprintf("member-%d", i)))
	}
	for i := range 3 {
		others.WriteString(secret(fmt.Sprintf("kubectl-%d", i)))
	}
	all.WriteString(members.String() + others.String())
	for i := range 3 {
		all.WriteString(secret(fmt.Sprintf("new-%d", i)))
	}
	f.apply(members.String())
	f.applyAs("kubectl", false, others.String())

	wire.mu.Lock()
	wire.requests, wire.bodies = nil, bytes.Buffer{}
	wire.mu.Unlock()
	p := f.plan(f.env(), f.files("deploy/secrets.yaml", all.String()), nil)
	noProblems(t, p)

	want := map[string]Action{}
	for i := range 6 {
		want[fmt.Sprintf("member-%d", i)] = ActionUnchanged
	}
	for i := range 3 {
		want[fmt.Sprintf("kubectl-%d", i)] = ActionAdopt
		want[fmt.Sprintf("new-%d", i)] = ActionCreate
	}
	for name, action := range want {
		if got := change(t, p, "Secret", name).Action; got != action {
			t.Errorf("Secret %s: %s, want %s", name, got, action)
		}
	}
	if len(p.Changes) != len(want) {
		t.Errorf("%d changes, want %d:\n%s", len(p.Changes), len(want), describe(p))
	}

	wire.mu.Lock()
	defer wire.mu.Unlock()
	if bytes.Contains(wire.bodies.Bytes(), []byte(b64(marker)[:16])) {
		t.Error("the unrelated Secret's data was read")
	}
	secretsPath := "/api/v1/namespaces/" + f.ns + "/secrets"
	var lists, gets []string
	for _, r := range wire.requests {
		method, uri, _ := strings.Cut(r, " ")
		path, query, _ := strings.Cut(uri, "?")
		switch {
		case method == "GET" && path == secretsPath:
			lists = append(lists, uri)
			if !strings.Contains(query, "labelSelector=applyset.kubernetes.io%2Fpart-of%3D") {
				t.Errorf("Secrets LISTed without the ApplySet selector: %s", r)
			}
		case method == "GET" && strings.HasPrefix(path, secretsPath+"/"):
			gets = append(gets, strings.TrimPrefix(path, secretsPath+"/"))
		}
	}
	if len(lists) != 1 {
		t.Errorf("%d LISTs of Secrets, want 1 (the members): %v", len(lists), lists)
	}
	// The six members come from the LIST; the six others are read by name.
	if len(gets) != 6 {
		t.Errorf("Secrets read by name: %v, want the 3 kubectl-* and 3 new-* ones", gets)
	}
	for _, name := range gets {
		if strings.HasPrefix(name, "member-") || strings.HasPrefix(name, "sh.helm") {
			t.Errorf("read %s by name", name)
		}
	}
}
