package benchtest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
)

// Floor is the raw floor of a plan: the same server-side apply dry-run
// PATCHes the planner sends, built beforehand and sent by a bare concurrent
// HTTP client that reads and discards the answers. No render, no decoding,
// no live reads, no diff: what is left is the API server's own work and the
// transport, which no planner can beat.
type Floor struct {
	client *http.Client
	host   string
	reqs   []floorRequest
}

type floorRequest struct {
	path string
	body []byte
}

// NewFloor returns an empty floor that sends through cfg's transport (its
// TLS and credentials, without client-go's request machinery).
func NewFloor(cfg *rest.Config) (*Floor, error) {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("floor: http client: %w", err)
	}
	return &Floor{client: hc, host: strings.TrimSuffix(cfg.Host, "/")}, nil
}

// Add queues one dry-run PATCH of body (an apply configuration as JSON) to
// the object at path (see DryRunApplyPath).
func (f *Floor) Add(path string, body []byte) {
	f.reqs = append(f.reqs, floorRequest{path: path, body: body})
}

// Len is the number of requests one Run sends.
func (f *Floor) Len() int { return len(f.reqs) }

// DryRunApplyPath is the URL path (with query) of a server-side apply
// dry-run of the namespaced object ns/name of resource gvr by fieldManager,
// forcing conflicts and validating fields strictly, as the planner sends.
func DryRunApplyPath(gvr schema.GroupVersionResource, ns, name, fieldManager string) string {
	prefix := "/apis/" + gvr.Group + "/" + gvr.Version
	if gvr.Group == "" {
		prefix = "/api/" + gvr.Version
	}
	return fmt.Sprintf("%s/namespaces/%s/%s/%s?dryRun=All&fieldManager=%s&force=true&fieldValidation=Strict",
		prefix, ns, gvr.Resource, name, fieldManager)
}

// Run sends every queued request once, with workers in flight, and fails if
// any was not answered 200 OK or 201 Created.
func (f *Floor) Run(workers int) error {
	var (
		wg    sync.WaitGroup
		next  atomic.Int64
		fails atomic.Int64
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(f.reqs) {
					return
				}
				req, err := http.NewRequest(http.MethodPatch, f.host+f.reqs[i].path, bytes.NewReader(f.reqs[i].body))
				if err != nil {
					fails.Add(1)
					continue
				}
				req.Header.Set("Content-Type", string(types.ApplyPatchType))
				resp, err := f.client.Do(req)
				if err != nil {
					fails.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
					fails.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if n := fails.Load(); n > 0 {
		return fmt.Errorf("floor: %d of %d requests failed", n, len(f.reqs))
	}
	return nil
}
