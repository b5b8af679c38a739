package applier

import (
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// injectedPanic is what the faulty transport panics with: the second line
// must never reach a result.
const injectedPanic = "injected fault\nsecond line of the panic value"

// faultyConfig is the test cluster's config with a transport that panics
// on the requests panicOn picks, as a bug in code on one of the applier's
// worker goroutines would.
func faultyConfig(panicOn func(*http.Request) bool) *rest.Config {
	cfg := rest.CopyConfig(cluster.RESTConfig())
	prev := cfg.WrapTransport
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		if prev != nil {
			rt = prev(rt)
		}
		return panickyTransport{rt: rt, panicOn: panicOn}
	}
	return cfg
}

type panickyTransport struct {
	rt      http.RoundTripper
	panicOn func(*http.Request) bool
}

func (p panickyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if p.panicOn(r) {
		panic(injectedPanic)
	}
	return p.rt.RoundTrip(r)
}

func checkPanicMessage(t *testing.T, msg string) {
	t.Helper()
	if !strings.Contains(msg, "panic: injected fault") {
		t.Errorf("the panic's first line is not named: %q", msg)
	}
	if strings.Contains(msg, "second line") {
		t.Errorf("more than the panic's first line is shown: %q", msg)
	}
}

// TestApplyPanicFailsTheEnvironment: a panic while writing one object
// ends the apply with an error naming the panic's first line and what was
// and wasn't applied; the other objects are written, and the process lives.
func TestApplyPanicFailsTheEnvironment(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	ns := uniqueName("panic-apply")
	cfg := faultyConfig(func(r *http.Request) bool {
		return r.Method == http.MethodPatch && r.URL.Query().Get("dryRun") == "" &&
			strings.HasSuffix(r.URL.Path, "/namespaces/"+ns+"/configmaps/boom")
	})
	e := newTestEnv(t, "acme/"+ns, "staging", cfg)
	applyAsAdmin(t, e, namespaceYAML(ns))
	e.put("cms.yaml", configMapYAML(ns, "fine", map[string]string{"k": "v"}), configMapYAML(ns, "boom", map[string]string{"k": "v"}))

	res, err := e.apply(ctx, Options{})
	var inc *IncompleteError
	if !errors.As(err, &inc) {
		t.Fatalf("apply error = %v, want an IncompleteError\n%s", err, reportString(res))
	}
	checkPanicMessage(t, err.Error())
	if get(t, gvrConfigMap, ns, "fine") == nil {
		t.Error("the object next to the one that crashed was not written")
	}
	if get(t, gvrConfigMap, ns, "boom") != nil {
		t.Error("the object whose write crashed exists")
	}
}

// TestWaitPanicFailsTheEnvironment: a panic while reading an object's
// status ends the wait at once, not converged, with the panic's first line
// as that object's message.
func TestWaitPanicFailsTheEnvironment(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	ns := uniqueName("panic-wait")
	var written atomic.Bool
	path := "/namespaces/" + ns + "/deployments/web"
	cfg := faultyConfig(func(r *http.Request) bool {
		switch {
		case r.Method == http.MethodPatch && r.URL.Query().Get("dryRun") == "" && strings.HasSuffix(r.URL.Path, path):
			written.Store(true) // the real write goes through; reads after it crash
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, path):
			return written.Load()
		}
		return false
	})
	e := newTestEnv(t, "acme/"+ns, "staging", cfg)
	applyAsAdmin(t, e, namespaceYAML(ns))
	e.put("app.yaml", deploymentYAML(ns, "web", "nginx:1.27", 1))

	start := time.Now()
	res, err := e.apply(ctx, Options{})
	if err == nil || res == nil || res.Wait == nil || res.Wait.Converged {
		t.Fatalf("apply = %v, want a wait that did not converge\n%s", err, reportString(res))
	}
	checkPanicMessage(t, err.Error())
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("the wait went on for %s after its status read crashed", took)
	}
}

// TestPrunePanicFailsTheEnvironment: a panic while deleting one object
// ends the apply with the panic's first line, the object kept.
func TestPrunePanicFailsTheEnvironment(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	ns := uniqueName("panic-prune")
	cfg := faultyConfig(func(r *http.Request) bool {
		return r.Method == http.MethodDelete && strings.HasSuffix(r.URL.Path, "/namespaces/"+ns+"/configmaps/gone")
	})
	e := newTestEnv(t, "acme/"+ns, "staging", cfg)
	applyAsAdmin(t, e, namespaceYAML(ns))
	e.put("cms.yaml", configMapYAML(ns, "kept", map[string]string{"k": "v"}), configMapYAML(ns, "gone", map[string]string{"k": "v"}))
	e.mustConverge(ctx)

	e.put("cms.yaml", configMapYAML(ns, "kept", map[string]string{"k": "v"}))
	res, err := e.apply(ctx, Options{})
	if err == nil {
		t.Fatalf("the prune crashed, yet the apply succeeded\n%s", reportString(res))
	}
	checkPanicMessage(t, err.Error())
	if get(t, gvrConfigMap, ns, "gone") == nil {
		t.Error("the object whose delete crashed is gone")
	}
}

// TestPreflightPanicRefusesTheApply: a panic while checking permissions
// refuses the apply before anything is written.
func TestPreflightPanicRefusesTheApply(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	ns := uniqueName("panic-preflight")
	cfg := faultyConfig(func(r *http.Request) bool {
		return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/selfsubjectaccessreviews")
	})
	e := newTestEnv(t, "acme/"+ns, "staging", cfg)
	applyAsAdmin(t, e, namespaceYAML(ns))
	e.put("cms.yaml", configMapYAML(ns, "a", map[string]string{"k": "v"}))
	res, err := e.apply(ctx, Options{})
	if err == nil {
		t.Fatalf("the permission check crashed, yet the apply succeeded\n%s", reportString(res))
	}
	checkPanicMessage(t, err.Error())
	if get(t, gvrConfigMap, ns, "a") != nil {
		t.Error("an apply whose preflight crashed wrote an object")
	}
}
