package githubtest

import (
	"bytes"
	"fmt"
	"os"
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
	if err := c.AddResource(webhookSchemaURL, doc); err != nil {
		return nil, fmt.Errorf("load webhook schemas: %w", err)
	}
	return &webhookSchemas{compiler: c, compiled: map[string]*jsonschema.Schema{}}, nil
})

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
