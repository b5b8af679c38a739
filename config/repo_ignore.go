package config

import (
	"fmt"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

func (p *problems) ignoreRules(n *yaml.Node, where string) []IgnoreRule {
	if n.Kind != yaml.SequenceNode {
		p.add(n.Line, "%s: want a list of rules, got %s", where, kindName(n))
		return []IgnoreRule{}
	}
	rules := []IgnoreRule{}
	for i, item := range n.Content {
		at := fmt.Sprintf("%s[%d]", where, i)
		item = resolveAlias(item)
		if item.Kind != yaml.MappingNode {
			p.add(item.Line, "%s: want a mapping with kind and paths, got %s", at, kindName(item))
			continue
		}
		var r IgnoreRule
		for _, f := range p.mappingEntries(item, at) {
			fat := join(at, f.key)
			switch f.key {
			case "group":
				r.Group, _ = p.str(f.value, fat)
			case "kind":
				r.Kind, _ = p.str(f.value, fat)
			case "name":
				r.Name, _ = p.str(f.value, fat)
			case "namespace":
				r.Namespace, _ = p.str(f.value, fat)
			case "paths":
				list, ok := p.strList(f.value, fat)
				if !ok {
					continue
				}
				for j, ptr := range list {
					if err := checkJSONPointer(ptr); err != nil {
						p.add(f.value.Content[j].Line, "%s[%d]: %v", fat, j, err)
					}
				}
				r.Paths = list
			default:
				p.add(f.line, "%s: unknown key %q (want group, kind, name, namespace or paths)", at, f.key)
			}
		}
		if r.Kind == "" {
			p.add(item.Line, "%s: kind: missing", at)
		}
		if len(r.Paths) == 0 {
			p.add(item.Line, "%s: paths: missing (JSON pointers such as /spec/replicas)", at)
		}
		rules = append(rules, r)
	}
	return rules
}

// checkJSONPointer checks RFC 6901 syntax. The empty pointer (the whole
// object) is refused: ignoring everything is never what a user means.
func checkJSONPointer(ptr string) error {
	if !strings.HasPrefix(ptr, "/") || ptr == "/" {
		return fmt.Errorf("%q is not a JSON pointer to a field (want a path like /spec/replicas)", ptr)
	}
	for i := 0; i < len(ptr); i++ {
		if ptr[i] == '~' && (i+1 == len(ptr) || (ptr[i+1] != '0' && ptr[i+1] != '1')) {
			return fmt.Errorf("%q is not a valid JSON pointer: '~' must be followed by 0 or 1 (~0 is '~', ~1 is '/')", ptr)
		}
	}
	return nil
}
