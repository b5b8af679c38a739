package planner

import (
	"io/fs"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Every secretGenerator's literals are checked before krusty sees them:
// krusty's error for one bad literal prints all of them, values included
// ("literal sources [user=admin password=hunter2 oops]: invalid literal
// source oops"). The problem made here names the generator, the literal's
// place and at most its key. Literals live in a kustomization's
// secretGenerator list and in SecretGenerator configs under generators:
// (files, inline objects, inline YAML strings); all are checked.

// scanSecretLiterals checks a kustomization's secretGenerator list.
func (s *kscan) scanSecretLiterals(kfile string, gens *yaml.Node, off int) {
	if gens.Kind != yaml.SequenceNode {
		return // krusty reports the shape
	}
	for _, g := range gens.Content {
		if g.Kind == yaml.MappingNode {
			s.checkLiterals(kfile, scalarAt(g, "name"), scalarMap(g, "literals"), off)
		}
	}
}

// scanSecretGeneratorConfig checks a generator config (apiVersion builtin,
// kind SecretGenerator: name under metadata, literals at the top).
func (s *kscan) scanSecretGeneratorConfig(file string, cfg *yaml.Node, off int) {
	if cfg.Kind != yaml.MappingNode || scalarAt(cfg, "kind") != "SecretGenerator" {
		return
	}
	name := scalarAt(scalarMap(cfg, "metadata"), "name")
	s.checkLiterals(file, name, scalarMap(cfg, "literals"), off)
}

// scanInlineGenerators checks generator configs given as a YAML string in
// the kustomization.
func (s *kscan) scanInlineGenerators(kfile string, n *yaml.Node, off int) {
	first := n.Line // the string's first line in the kustomization
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		first++ // a block scalar starts below its "|" or ">"
	}
	for _, c := range splitDocuments([]byte(n.Value)) {
		if root, p := parseChunk(kfile, c); p == nil && root != nil {
			s.scanSecretGeneratorConfig(kfile, root, off+first-1+c.line-1)
		}
	}
}

// scanGeneratorFile checks the generator configs in a file listed under
// generators:.
func (s *kscan) scanGeneratorFile(file string) {
	data, err := fs.ReadFile(s.repo, file)
	if err != nil {
		return // krusty reports it
	}
	for _, c := range splitDocuments(data) {
		if root, p := parseChunk(file, c); p == nil && root != nil {
			s.scanSecretGeneratorConfig(file, root, c.line-1)
		}
	}
}

// checkLiterals reports the literals of the Secret generator name that
// krusty would refuse, without their values.
func (s *kscan) checkLiterals(file, name string, literals *yaml.Node, off int) {
	if literals == nil || literals.Kind != yaml.SequenceNode {
		return
	}
	for i, lit := range literals.Content {
		if lit.Kind != yaml.ScalarNode {
			continue
		}
		key, _, found := strings.Cut(lit.Value, "=")
		line := lit.Line + off
		switch {
		case !found:
			// Without "=" there is no telling a key from a value pasted
			// without its key: nothing of it is shown.
			s.problem(file, line, "secretGenerator %q: literal %d is not key=value (its text is not shown: it may be a secret value)", name, i+1)
		case key == "":
			s.problem(file, line, "secretGenerator %q: literal %d has no key before \"=\"", name, i+1)
		default:
			if errs := validation.IsConfigMapKey(key); len(errs) > 0 {
				s.problem(file, line, "secretGenerator %q: literal %d: key %q is not a valid Secret key: %s", name, i+1, key, strings.Join(errs, "; "))
			}
		}
	}
}
