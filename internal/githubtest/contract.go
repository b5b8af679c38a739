package githubtest

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// ContractFailure is a request, response or webhook payload that does not
// match GitHub's published description of it.
type ContractFailure struct {
	// Kind is "route" (no such operation), "not emulated" (GitHub has it,
	// the emulator does not), "request", "response" or "webhook".
	Kind string
	// Method and Path are the request's; for webhooks, Method is the event.
	Method, Path string
	// Operation is the OpenAPI path template, or the webhook event.action.
	Operation string
	Err       string
}

func (f ContractFailure) String() string {
	return fmt.Sprintf("%s %s %s (%s): %s", f.Kind, f.Method, f.Path, f.Operation, f.Err)
}

// ContractFailures lists what the server found wrong so far.
func (s *Server) ContractFailures() []ContractFailure {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ContractFailure(nil), s.failures...)
}

// TakeContractFailures returns the failures recorded so far and forgets
// them: for tests that provoke a failure on purpose.
func (s *Server) TakeContractFailures() []ContractFailure {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.failures
	s.failures = nil
	return f
}

func (s *Server) recordFailure(f ContractFailure) {
	s.logf("githubtest: CONTRACT FAILURE: %s", f)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, f)
}

type routeKey struct{}

// routeOf returns the OpenAPI route a request was matched to.
func routeOf(r *http.Request) *routers.Route {
	rt, _ := r.Context().Value(routeKey{}).(*routers.Route)
	return rt
}

// contentsPath and rulesPath match the path parameters that may contain
// slashes: OpenAPI 3.0 path parameters cannot, but GitHub's contents/{path}
// and rules/branches/{branch} (which go-github does not escape) do.
var (
	contentsPath = regexp.MustCompile(`^(/repos/[^/]+/[^/]+/contents/)(.*)$`)
	rulesPath    = regexp.MustCompile(`^(/repos/[^/]+/[^/]+/rules/branches/)(.+/.+)$`)
	// gitRefPath: git/ref/{ref} and git/refs/{ref} name "heads/<branch>".
	gitRefPath = regexp.MustCompile(`^(/repos/[^/]+/[^/]+/git/refs?/)(.+/.+)$`)
)

// contractCheck validates each request against GitHub's description before
// the handler runs, and each response after it, with openapi3filter. A
// mismatch is answered with a 500 that names the problem and recorded.
func (s *Server) contractCheck(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
			return
		}
		// ghinstallation sends the JSON literal null as the body of
		// POST .../access_tokens when it asks for no options; GitHub
		// treats that as no body, and so does the check.
		if string(bytes.TrimSpace(body)) == "null" {
			body = nil
		}
		fail := func(kind, op string, err error) {
			s.recordFailure(ContractFailure{Kind: kind, Method: r.Method, Path: r.URL.Path, Operation: op, Err: err.Error()})
			writeJSON(w, http.StatusInternalServerError, map[string]any{
				"message":           fmt.Sprintf("githubtest contract failure (%s): %v", kind, err),
				"documentation_url": "https://docs.github.com/rest",
			})
		}

		routing := r.Clone(r.Context())
		routing.Body = io.NopCloser(bytes.NewReader(body))
		if m := contentsPath.FindStringSubmatch(r.URL.Path); m != nil {
			// An empty path (the root directory, which go-github asks for
			// as contents/) is routed as "/".
			p := cmp.Or(m[2], "/")
			routing.URL.Path, routing.URL.RawPath = m[1]+p, m[1]+url.PathEscape(p)
		}
		if m := gitRefPath.FindStringSubmatch(r.URL.Path); m != nil {
			routing.URL.Path, routing.URL.RawPath = r.URL.Path, m[1]+url.PathEscape(m[2])
		}
		if m := rulesPath.FindStringSubmatch(r.URL.Path); m != nil {
			routing.URL.Path, routing.URL.RawPath = r.URL.Path, m[1]+url.PathEscape(m[2])
		}
		route, params, err := s.desc.router.FindRoute(routing)
		if err != nil {
			fail("route", "", fmt.Errorf("%s %s is not in GitHub's API description: %w", r.Method, r.URL.Path, err))
			return
		}
		if route.Operation.Summary == notEmulated {
			fail("not emulated", route.Path, fmt.Errorf("GitHub has %s %s, the emulator does not implement it", r.Method, route.Path))
			return
		}
		reqInput := &openapi3filter.RequestValidationInput{
			Request:    routing,
			PathParams: params,
			Route:      route,
			Options: &openapi3filter.Options{
				SkipSettingDefaults: true,
				MultiError:          true,
				AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
			},
		}
		reqInput.Options.WithCustomSchemaErrorFunc(conciseSchemaError)
		if err := openapi3filter.ValidateRequest(r.Context(), reqInput); err != nil {
			if !onlyLimits(err) {
				fail("request", route.Path, err)
				return
			}
			// Over a documented maxLength/maxItems only: still a contract
			// failure, but let the handler answer as GitHub does (422).
			s.recordFailure(ContractFailure{Kind: "request", Method: r.Method, Path: r.URL.Path, Operation: route.Path, Err: err.Error()})
		}

		r = r.WithContext(withParams(context.WithValue(r.Context(), routeKey{}, route), params))
		r.Body = io.NopCloser(bytes.NewReader(body))
		if s.injectFault(w, r, route.Path) {
			return // deliberate failures are not GitHub's contract to check
		}
		rec := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(rec, r)

		respInput := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: reqInput,
			Status:                 rec.status,
			Header:                 rec.header,
			Options:                &openapi3filter.Options{MultiError: true},
		}
		respInput.Options.WithCustomSchemaErrorFunc(conciseSchemaError)
		respInput.SetBodyBytes(rec.body.Bytes())
		if err := openapi3filter.ValidateResponse(r.Context(), respInput); err != nil {
			fail("response", route.Path, err)
			return
		}
		rec.writeTo(w)
	})
}

// conciseSchemaError leaves out the schema and value kin-openapi would
// otherwise quote in full (a check run's 64 KB text, a 200-line schema).
func conciseSchemaError(err *openapi3.SchemaError) string {
	msg := "at /" + strings.Join(err.JSONPointer(), "/") + ": " + trimmed(err.Reason, 300)
	if err.Origin != nil {
		msg += " (" + conciseOrigin(err.Origin) + ")"
	}
	return msg
}

// conciseOrigin explains why an allOf/oneOf failed: its inner errors.
func conciseOrigin(err error) string {
	switch e := err.(type) {
	case *openapi3.SchemaError:
		return conciseSchemaError(e)
	case openapi3.MultiError:
		parts := make([]string, 0, len(e))
		for _, x := range e {
			parts = append(parts, conciseOrigin(x))
		}
		return strings.Join(parts, "; ")
	}
	return trimmed(err.Error(), 300)
}

// onlyLimits reports whether every schema violation in err is a length or
// count limit (maxLength, maxItems): GitHub answers those with a 422.
func onlyLimits(err error) bool {
	var all []*openapi3.SchemaError
	var walk func(error) bool
	walk = func(err error) bool {
		switch e := err.(type) {
		case openapi3.MultiError:
			for _, x := range e {
				if !walk(x) {
					return false
				}
			}
			return true
		case *openapi3.SchemaError:
			all = append(all, e)
			return true
		case *openapi3filter.RequestError:
			return e.Err != nil && walk(e.Err)
		case interface{ Unwrap() error }:
			return walk(e.Unwrap())
		}
		return false
	}
	if !walk(err) || len(all) == 0 {
		return false
	}
	for _, e := range all {
		if e.SchemaField != "maxLength" && e.SchemaField != "maxItems" {
			return false
		}
	}
	return true
}

// notEmulated marks the operations the description keeps only as stubs.
const notEmulated = "not emulated"

// bufferedResponse holds a handler's response until it has been validated.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func (b *bufferedResponse) Header() http.Header { return b.header }
func (b *bufferedResponse) Write(p []byte) (int, error) {
	b.wrote = true
	return b.body.Write(p)
}
func (b *bufferedResponse) WriteHeader(code int) {
	if !b.wrote {
		b.status = code
		b.wrote = true
	}
}

func (b *bufferedResponse) writeTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.WriteHeader(b.status)
	w.Write(b.body.Bytes())
}

// trimmed shortens long validation errors (they can quote whole schemas) for logs.
func trimmed(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + strings.Repeat(".", 3)
}
