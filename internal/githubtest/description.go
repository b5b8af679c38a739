package githubtest

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// description is GitHub's REST API description (@octokit/openapi), parsed
// and routed, ready to check requests and responses against.
type description struct {
	doc    *openapi3.T
	router routers.Router
	// LoadTime is how long reading, pruning, parsing and routing took.
	loadTime time.Duration
	// paths and served count what the router knows, for the load report.
	paths, served int
}

// sharedDescription is the one piece of process-wide state in this package.
// Parsing GitHub's 13 MB description costs seconds; every Server in a test
// binary would otherwise pay it again. The parsed value is never mutated
// after it is built, so sharing it between servers and goroutines is safe.
var sharedDescription = sync.OnceValues(func() (*description, error) {
	return loadDescription(servedOperations())
})

// LoadDescription loads (once per process) GitHub's REST API description and
// reports how long the load took. Servers call it themselves; it is exported
// so a test binary or the sandbox can pay the cost up front and report it.
func LoadDescription() (time.Duration, error) {
	d, err := sharedDescription()
	if err != nil {
		return 0, err
	}
	return d.loadTime, nil
}

// opKey names one operation: an HTTP method and an OpenAPI path template.
type opKey struct{ method, path string }

var componentRef = regexp.MustCompile(`"\$ref"\s*:\s*"#/components/([A-Za-z]+)/([^"]+)"`)

// loadDescription reads the description and parses the operations the
// emulator serves in full. Every other operation is kept only as a stub
// (method + path, no schemas), so the router still recognises every path
// GitHub has, and components no served operation references are dropped.
// Pruning only removes what the served operations cannot reach, so their
// contract is exactly GitHub's; it cuts the parse from ~2.5 s to a fraction.
func loadDescription(served []opKey) (*description, error) {
	start := time.Now()
	path, err := testdataFile(openAPIPackage, "generated", "api.github.com.json")
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read GitHub API description: %w", err)
	}
	pruned, nPaths, err := pruneDescription(raw, served)
	if err != nil {
		return nil, fmt.Errorf("prune GitHub API description %s: %w", path, err)
	}
	doc := &openapi3.T{}
	if err := json.Unmarshal(pruned, doc); err != nil {
		return nil, fmt.Errorf("parse GitHub API description %s: %w", path, err)
	}
	if err := openapi3.NewLoader().ResolveRefsIn(doc, nil); err != nil {
		return nil, fmt.Errorf("resolve refs in GitHub API description: %w", err)
	}
	correctDescription(doc)
	// The legacy router validates the whole document first and refuses
	// GitHub's (it has paths that differ only in a variable's name, e.g.
	// /orgs/{org}/attestations/{subject_digest} and .../{attestation_id});
	// gorillamux takes it as is and builds in tens of milliseconds.
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route GitHub API description: %w", err)
	}
	return &description{doc: doc, router: router, loadTime: time.Since(start), paths: nPaths, served: len(served)}, nil
}

// pruneDescription rewrites the raw description as described at
// loadDescription, working on raw JSON so nothing is parsed twice.
func pruneDescription(raw []byte, served []opKey) ([]byte, int, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, 0, err
	}
	var paths map[string]map[string]json.RawMessage
	if err := json.Unmarshal(top["paths"], &paths); err != nil {
		return nil, 0, fmt.Errorf("paths: %w", err)
	}
	want := make(map[opKey]bool, len(served))
	for _, k := range served {
		want[k] = true
	}
	var refs [][]byte // raw JSON whose $refs must stay resolvable
	for p, item := range paths {
		keepItem := false
		for m := range item {
			if want[opKey{strings.ToUpper(m), p}] {
				keepItem = true
			}
		}
		for m, op := range item {
			if !isMethod(m) {
				if !keepItem {
					delete(item, m) // path-level parameters of unserved paths
				} else {
					refs = append(refs, op)
				}
				continue
			}
			if want[opKey{strings.ToUpper(m), p}] {
				refs = append(refs, op)
				delete(want, opKey{strings.ToUpper(m), p})
				continue
			}
			item[m] = json.RawMessage(`{"summary":"` + notEmulated + `","responses":{}}`)
		}
	}
	if len(want) > 0 {
		missing := make([]string, 0, len(want))
		for k := range want {
			missing = append(missing, k.method+" "+k.path)
		}
		sort.Strings(missing)
		return nil, 0, fmt.Errorf("emulator serves operations GitHub's description lacks: %s", strings.Join(missing, ", "))
	}

	var components map[string]map[string]json.RawMessage
	if err := json.Unmarshal(top["components"], &components); err != nil {
		return nil, 0, fmt.Errorf("components: %w", err)
	}
	keep := map[string]map[string]bool{}
	for len(refs) > 0 {
		next := refs[len(refs)-1]
		refs = refs[:len(refs)-1]
		for _, m := range componentRef.FindAllSubmatch(next, -1) {
			kind, name := string(m[1]), unescapePointer(string(m[2]))
			if keep[kind][name] {
				continue
			}
			if keep[kind] == nil {
				keep[kind] = map[string]bool{}
			}
			keep[kind][name] = true
			if v, ok := components[kind][name]; ok {
				refs = append(refs, v)
			}
		}
	}
	for kind, entries := range components {
		for name := range entries {
			if !keep[kind][name] {
				delete(entries, name)
			}
		}
	}

	var err error
	if top["paths"], err = json.Marshal(paths); err != nil {
		return nil, 0, err
	}
	if top["components"], err = json.Marshal(components); err != nil {
		return nil, 0, err
	}
	// Routing is by path: the emulator is never api.github.com.
	top["servers"] = json.RawMessage(`[{"url":"/"}]`)
	out, err := json.Marshal(top)
	return out, len(paths), err
}

func isMethod(m string) bool {
	switch strings.ToLower(m) {
	case "get", "put", "post", "delete", "options", "head", "patch", "trace":
		return true
	}
	return false
}

func unescapePointer(s string) string {
	return strings.NewReplacer("~1", "/", "~0", "~").Replace(s)
}
