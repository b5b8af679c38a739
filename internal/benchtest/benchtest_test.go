package benchtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
)

func TestMedian(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3}
	if got := Median(ds); got != 3 {
		t.Errorf("Median = %v, want 3", got)
	}
	if ds[0] != 5 {
		t.Errorf("Median reordered its input: %v", ds)
	}
	if got := Median([]time.Duration{2, 1}); got != 2 {
		t.Errorf("Median of two = %v, want the upper one (2)", got)
	}
}

func TestDryRunApplyPath(t *testing.T) {
	for _, tc := range []struct {
		gvr  schema.GroupVersionResource
		want string
	}{
		{schema.GroupVersionResource{Version: "v1", Resource: "configmaps"},
			"/api/v1/namespaces/ns/configmaps/a?dryRun=All&fieldManager=tugboat&force=true&fieldValidation=Strict"},
		{schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"},
			"/apis/apps/v1/namespaces/ns/deployments/a?dryRun=All&fieldManager=tugboat&force=true&fieldValidation=Strict"},
	} {
		if got := DryRunApplyPath(tc.gvr, "ns", "a", "tugboat"); got != tc.want {
			t.Errorf("DryRunApplyPath(%v) = %q, want %q", tc.gvr, got, tc.want)
		}
	}
}

// TestFloorRun checks that Run sends every request once, as an apply
// patch with its body, and counts the ones not answered 200 or 201.
func TestFloorRun(t *testing.T) {
	var (
		mu   sync.Mutex
		seen = map[string]string{}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen[r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("Content-Type")] = string(body)
		mu.Unlock()
		switch {
		case strings.Contains(r.URL.Path, "/bad"):
			w.WriteHeader(http.StatusUnprocessableEntity)
		case strings.Contains(r.URL.Path, "/new"):
			w.WriteHeader(http.StatusCreated)
		}
	}))
	defer srv.Close()

	f, err := NewFloor(&rest.Config{Host: srv.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	cm := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	f.Add(DryRunApplyPath(cm, "ns", "old", "m"), []byte(`{"a":1}`))
	f.Add(DryRunApplyPath(cm, "ns", "new", "m"), []byte(`{"b":2}`))
	if f.Len() != 2 {
		t.Fatalf("Len = %d, want 2", f.Len())
	}
	if err := f.Run(4); err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := map[string]string{
		"PATCH " + DryRunApplyPath(cm, "ns", "old", "m") + " application/apply-patch+yaml": `{"a":1}`,
		"PATCH " + DryRunApplyPath(cm, "ns", "new", "m") + " application/apply-patch+yaml": `{"b":2}`,
	}
	for k, v := range want {
		if seen[k] != v {
			t.Errorf("request %q: body %q, want %q (seen %v)", k, seen[k], v, seen)
		}
	}

	f.Add(DryRunApplyPath(cm, "ns", "bad", "m"), []byte(`{}`))
	if err := f.Run(2); err == nil || err.Error() != "floor: 1 of 3 requests failed" {
		t.Errorf("Run with a refused request: %v, want floor: 1 of 3 requests failed", err)
	}
}

// RSS reads this process's resident size, and 0 for a process that is
// gone.
func TestRSS(t *testing.T) {
	if n := RSS(os.Getpid()); n < 1<<20 {
		t.Errorf("RSS of this process = %d bytes, want at least 1 MiB", n)
	}
	if n := RSS(1 << 30); n != 0 {
		t.Errorf("RSS of no process = %d, want 0", n)
	}
}
