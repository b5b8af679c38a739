package githubtest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a running GitHub emulator. Create it with New in tests or
// NewServer elsewhere; all methods are safe for concurrent use.
type Server struct {
	desc    *description
	schemas *webhookSchemas
	http    *httptest.Server
	logf    func(format string, args ...any)

	dir    string // git repositories live here
	ownDir bool   // dir is ours to delete at Close

	mergeableDelay time.Duration

	// fatalf reports a failed setup call (CreateRepo, Commit, ...): t.Fatalf
	// under New, a panic under NewServer.
	fatalf func(format string, args ...any)

	// gitMu serializes changes to git refs and the test merges made from them.
	gitMu sync.Mutex

	mu            sync.Mutex
	nextID        int64
	app           *App
	bot           *User
	users         map[string]*User             // by login
	teams         map[string]map[string]string // "org/team" -> login -> role
	installations map[int64]*Installation
	tokens        map[string]*token
	repos         map[string]*repo // by "owner/name"
	faults        []*fault
	lags          []*lag
	failures      []ContractFailure
	downloads     map[string]download // tarball download token -> what it serves
	otherApps     map[string]*App     // other GitHub Apps (CI) by slug, for AddCheckRun

	registeredSlugs map[string]bool          // Apps registered from a manifest (manifest.go)
	manifestCodes   map[string]*manifestCode // codes not exchanged yet

	hooks *hookQueue

	limits rateLimiter // primary rate limits (ratelimit.go)
}

// Option configures a Server.
type Option func(*config)

type config struct {
	logf           func(string, ...any)
	dir            string
	addr           string
	mergeableDelay time.Duration
}

// WithLogf sends the emulator's log lines (requests, deliveries) somewhere;
// New defaults to t.Logf.
func WithLogf(logf func(format string, args ...any)) Option {
	return func(c *config) { c.logf = logf }
}

// WithDir stores the git repositories under dir (kept at Close) instead of
// a temporary directory.
func WithDir(dir string) Option { return func(c *config) { c.dir = dir } }

// WithAddr listens on addr (host:port) instead of a random local port; the
// sandbox uses it to get a stable URL.
func WithAddr(addr string) Option { return func(c *config) { c.addr = addr } }

// WithMergeableDelay makes a pull request report `mergeable: null` and
// `mergeable_state: unknown` for d after either of its branches moves, as
// GitHub does while it computes the test merge. Default 0.
func WithMergeableDelay(d time.Duration) Option {
	return func(c *config) { c.mergeableDelay = d }
}

// New starts an emulator for a test. It is closed when the test ends, and
// any contract failure it recorded (a request or response that does not
// match GitHub's description, a webhook payload that fails its schema) then
// fails the test. Missing test data fails the test too: run `make testdata`.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	opts = append([]Option{WithLogf(t.Logf)}, opts...)
	s, err := NewServer(opts...)
	if err != nil {
		t.Fatalf("githubtest: %v", err)
	}
	s.fatalf = func(format string, args ...any) {
		t.Helper()
		t.Fatalf("githubtest: "+format, args...)
	}
	t.Cleanup(func() {
		s.Close()
		for _, f := range s.ContractFailures() {
			t.Errorf("githubtest: contract failure: %s", f)
		}
	})
	return s
}

// NewServer starts an emulator outside a test (the sandbox). Call Close when done.
func NewServer(opts ...Option) (*Server, error) {
	c := config{logf: func(string, ...any) {}}
	for _, o := range opts {
		o(&c)
	}
	desc, err := sharedDescription()
	if err != nil {
		return nil, err
	}
	schemas, err := sharedWebhookSchemas()
	if err != nil {
		return nil, err
	}
	s := &Server{
		desc:           desc,
		schemas:        schemas,
		logf:           c.logf,
		dir:            c.dir,
		mergeableDelay: c.mergeableDelay,
		nextID:         1000,
		users:          map[string]*User{},
		teams:          map[string]map[string]string{},
		installations:  map[int64]*Installation{},
		tokens:         map[string]*token{},
		repos:          map[string]*repo{},
		downloads:      map[string]download{},
		fatalf:         func(format string, args ...any) { panic(fmt.Sprintf("githubtest: "+format, args...)) },
	}
	if s.dir == "" {
		if s.dir, err = os.MkdirTemp("", "githubtest-"); err != nil {
			return nil, fmt.Errorf("githubtest: git storage: %w", err)
		}
		s.ownDir = true
	}
	if err := s.initApp(); err != nil {
		return nil, err
	}
	s.http = httptest.NewUnstartedServer(s.handler())
	if c.addr != "" {
		l, err := net.Listen("tcp", c.addr)
		if err != nil {
			return nil, fmt.Errorf("githubtest: listen %s: %w", c.addr, err)
		}
		s.http.Listener.Close()
		s.http.Listener = l
	}
	s.http.Start()
	s.hooks = newHookQueue(s)
	return s, nil
}

// Close stops the server, waits for webhook deliveries in flight and
// removes the git storage it created.
func (s *Server) Close() {
	s.hooks.close()
	s.http.Close()
	if s.ownDir {
		os.RemoveAll(s.dir)
	}
}

// URL is the server's root, e.g. http://127.0.0.1:PORT. Give go-github
// either BaseURL = URL()+"/" or WithEnterpriseURLs(URL(), URL()): the
// emulator also answers under GitHub Enterprise's /api/v3 prefix.
func (s *Server) URL() string { return s.http.URL }

// GraphQLURL is where the GraphQL endpoint listens.
func (s *Server) GraphQLURL() string { return s.http.URL + "/graphql" }

// Client is an HTTP client for the server (no authentication of its own).
func (s *Server) Client() *http.Client { return s.http.Client() }

// id hands out the next object id. Callers hold s.mu.
func (s *Server) id() int64 {
	s.nextID++
	return s.nextID
}

// handler assembles the routes: the REST API behind the contract check, and
// the two honest exceptions (GraphQL, tarball downloads) plus the HTML
// pages, which GitHub's REST description does not cover.
func (s *Server) handler() http.Handler {
	handlers := map[opKey]handlerFunc{}
	for _, r := range routes() {
		handlers[opKey{r.method, r.path}] = r.handler
	}
	contract := s.contractCheck(s.authenticate(s.rateLimit(s.dispatch(handlers))))

	mux := http.NewServeMux()
	mux.HandleFunc("POST /graphql", s.graphql)
	mux.HandleFunc("GET "+downloadPrefix+"{token}", s.download)
	s.pageRoutes(mux)
	s.manifestPageRoutes(mux)
	mux.Handle("/", contract)
	return s.logRequests(stripEnterprisePrefix(mux))
}

// stripEnterprisePrefix lets clients configured for GitHub Enterprise
// (go-github's WithEnterpriseURLs, go-githubapp's V3APIURL) reach the same
// routes: /api/v3/x is /x and /api/graphql is /graphql.
func stripEnterprisePrefix(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/api/v3/"):
			r.URL.Path = strings.TrimPrefix(r.URL.Path, "/api/v3")
			r.URL.RawPath = strings.TrimPrefix(r.URL.RawPath, "/api/v3")
		case r.URL.Path == "/api/graphql":
			r.URL.Path = "/graphql"
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(rec, r)
		s.logf("githubtest: %s %s -> %d (%s)", r.Method, r.URL.RequestURI(), rec.status, time.Since(start).Round(time.Microsecond))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}
