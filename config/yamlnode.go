package config

import (
	"context"
	"fmt"
	"strconv"

	yaml "go.yaml.in/yaml/v3"

	"github.com/tugboatops/tugboat/internal/yamlerr"
)

// problems collects errors in one file while a parser walks its nodes, so
// one run reports everything wrong rather than the first thing.
type problems struct {
	ctx  context.Context // nil: context.Background()
	file string
	errs Errors
}

func (p *problems) add(line int, format string, args ...any) {
	p.errs = append(p.errs, Error{File: p.file, Line: line, Message: fmt.Sprintf(format, args...)})
}

// parseDocument parses data as one YAML document and returns its root
// mapping, or nil after recording why it cannot.
func (p *problems) parseDocument(data []byte) *yaml.Node {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		ctx := p.ctx
		if ctx == nil {
			ctx = context.Background()
		}
		line, msg := yamlerr.Locate(ctx, data, err)
		p.add(line, "invalid YAML: %s", msg)
		return nil
	}
	if len(doc.Content) == 0 {
		p.add(0, "file is empty")
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		p.add(root.Line, "want a mapping at the top level, got %s", kindName(root))
		return nil
	}
	return root
}

// entry is one key/value pair of a mapping node.
type entry struct {
	key   string
	line  int
	value *yaml.Node
}

// mappingEntries returns the pairs of a mapping, reporting duplicate keys
// (yaml.v3 accepts them into a Node, but the second silently wins when
// decoding, which hides mistakes).
func (p *problems) mappingEntries(n *yaml.Node, where string) []entry {
	var out []entry
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if first, dup := seen[k.Value]; dup {
			p.add(k.Line, "%s: key %q is repeated (first on line %d)", join(where, k.Value), k.Value, first)
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, entry{key: k.Value, line: k.Line, value: resolveAlias(v)})
	}
	return out
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an alias"
}

// join builds the dotted key path used in messages
// ("environments.staging.apply").
func join(where, key string) string {
	if where == "" {
		return key
	}
	return where + "." + key
}

// str reads a string scalar.
func (p *problems) str(n *yaml.Node, where string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.add(n.Line, "%s: want a string, got %s", where, kindName(n))
		return "", false
	}
	return n.Value, true
}

// strList reads a list of string scalars.
func (p *problems) strList(n *yaml.Node, where string) ([]string, bool) {
	if n.Kind != yaml.SequenceNode {
		p.add(n.Line, "%s: want a list, got %s", where, kindName(n))
		return nil, false
	}
	out := make([]string, 0, len(n.Content))
	ok := true
	for i, c := range n.Content {
		s, good := p.str(resolveAlias(c), fmt.Sprintf("%s[%d]", where, i))
		ok = ok && good
		out = append(out, s)
	}
	return out, ok
}

func (p *problems) integer(n *yaml.Node, where string) (int, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		v, err := strconv.Atoi(n.Value)
		if err == nil {
			return v, true
		}
	}
	p.add(n.Line, "%s: want a whole number, got %s", where, kindName(n))
	return 0, false
}

func (p *problems) boolean(n *yaml.Node, where string) (bool, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		var b bool
		if err := n.Decode(&b); err == nil {
			return b, true
		}
	}
	p.add(n.Line, "%s: want true or false, got %s", where, kindName(n))
	return false, false
}
