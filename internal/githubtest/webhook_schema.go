package githubtest

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// webhookSchemas validates webhook payloads against @octokit/webhooks-schemas
// (JSON Schema draft-07), compiling each event's definition on first use.
type webhookSchemas struct {
	mu       sync.Mutex // jsonschema.Compiler is not safe for concurrent use
	compiler *jsonschema.Compiler
	compiled map[string]*jsonschema.Schema
}

const webhookSchemaURL = "file:///octokit-webhooks-schemas/schema.json"

// sharedWebhookSchemas is, like sharedDescription, process-wide because it
// is read-only input that would otherwise be parsed again by every server.
var sharedWebhookSchemas = sync.OnceValues(func() (*webhookSchemas, error) {
	path, err := testdataFile(schemasPackage, "schema.json")
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read webhook schemas: %w", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parse webhook schemas %s: %w", path, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.AssertFormat()
	// jsonschema/v6's own uri-template check splits the URL on "/" before
	// looking at braces, so it rejects GitHub's "{/sha}" expressions (and
	// GitHub's own example payloads): use an RFC 6570 check instead.
	c.RegisterFormat(&jsonschema.Format{Name: "uri-template", Validate: validateURITemplate})
	if err := c.AddResource(webhookSchemaURL, doc); err != nil {
		return nil, fmt.Errorf("load webhook schemas: %w", err)
	}
	return &webhookSchemas{compiler: c, compiled: map[string]*jsonschema.Schema{}}, nil
})

var uriTemplateExpr = regexp.MustCompile(`^[+#./;?&]?[A-Za-z0-9_%.]+(:[1-9][0-9]{0,3}|\*)?(,[A-Za-z0-9_%.]+(:[1-9][0-9]{0,3}|\*)?)*$`)

// validateURITemplate checks RFC 6570 syntax: balanced, unnested braces
// around well-formed expressions.
func validateURITemplate(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	for s != "" {
		open := strings.IndexAny(s, "{}")
		if open < 0 {
			return nil
		}
		if s[open] == '}' {
			return fmt.Errorf("unmatched }")
		}
		end := strings.IndexAny(s[open+1:], "{}")
		if end < 0 || s[open+1+end] == '{' {
			return fmt.Errorf("unclosed {")
		}
		if expr := s[open+1 : open+1+end]; !uriTemplateExpr.MatchString(expr) {
			return fmt.Errorf("bad expression {%s}", expr)
		}
		s = s[open+1+end+1:]
	}
	return nil
}

// validate checks payload against the definition for event and action
// ("pull_request$opened", or "push$event" for events without actions).
func (w *webhookSchemas) validate(event, action string, payload []byte) error {
	def := event + "$event"
	if action != "" {
		def = event + "$" + action
	}
	w.mu.Lock()
	sch, ok := w.compiled[def]
	if !ok {
		var err error
		sch, err = w.compiler.Compile(webhookSchemaURL + "#/definitions/" + def)
		if err != nil {
			w.mu.Unlock()
			return fmt.Errorf("no schema for %s: %w", def, err)
		}
		w.compiled[def] = sch
	}
	w.mu.Unlock()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("payload is not JSON: %w", err)
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("%s: %s", def, strings.TrimSpace(err.Error()))
	}
	return nil
}
