package release

import (
	"bytes"
	"fmt"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// LookupValue finds a dotted value path ("image.tag") in a Helm values
// file. found is false when the file does not set it; value is the node's
// YAML (a scalar's text, or a whole mapping or list).
func LookupValue(data []byte, dotted string) (value *yaml.Node, found bool, err error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, false, fmt.Errorf("parse values: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil, false, nil
	}
	n := doc.Content[0]
	for _, k := range strings.Split(dotted, ".") {
		if n.Kind != yaml.MappingNode {
			return nil, false, nil
		}
		next := mappingValue(n, k)
		if next == nil {
			return nil, false, nil
		}
		n = next
	}
	return n, true, nil
}

// SetValue sets a dotted value path in a Helm values file to value,
// editing the YAML tree so every other line (comments included) stays as
// written, and creating the mappings on the way when missing. changed is
// false when the file already holds that value.
func SetValue(data []byte, dotted string, value *yaml.Node) (out []byte, changed bool, err error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, false, fmt.Errorf("parse values: %w", err)
	}
	if len(doc.Content) == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode}}}
	}
	n := doc.Content[0]
	keys := strings.Split(dotted, ".")
	for i, k := range keys {
		if n.Kind != yaml.MappingNode {
			return nil, false, fmt.Errorf("%s is not a mapping", strings.Join(keys[:i], "."))
		}
		next := mappingValue(n, k)
		if i == len(keys)-1 {
			if next != nil && sameNode(next, value) {
				return data, false, nil
			}
			v := copyValue(value)
			if next != nil {
				*next = *v
			} else {
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, v)
			}
			break
		}
		if next == nil {
			next = &yaml.Node{Kind: yaml.MappingNode}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, next)
		}
		n = next
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, false, fmt.Errorf("write values: %w", err)
	}
	return b.Bytes(), true, nil
}

// ValueText is how a promotion shows a value: a scalar's text, else its
// YAML on one line.
func ValueText(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	out, err := yaml.Marshal(n)
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

func mappingValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// sameNode compares two values by their YAML, comments aside.
func sameNode(a, b *yaml.Node) bool {
	x, err1 := yaml.Marshal(copyValue(a))
	y, err2 := yaml.Marshal(copyValue(b))
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// copyValue copies a value without its position and comments (which
// belong to the file it came from) and keeps its style: a quoted "1.5"
// stays a string.
func copyValue(n *yaml.Node) *yaml.Node {
	c := &yaml.Node{Kind: n.Kind, Style: n.Style &^ (yaml.FlowStyle), Tag: n.Tag, Value: n.Value}
	if n.Kind == yaml.ScalarNode {
		c.Style = n.Style
	}
	for _, ch := range n.Content {
		c.Content = append(c.Content, copyValue(ch))
	}
	return c
}
