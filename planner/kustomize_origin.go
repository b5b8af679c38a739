package planner

import (
	"io/fs"
	"path"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// docInfo is what the line finder knows of one document of a file.
type docInfo struct {
	kind, name string
	line       int
}

// lineFinder maps kustomize origins (paths relative to the built
// directory) to repository files and lines, parsing each file once.
type lineFinder struct {
	repo fs.FS
	docs map[string][]docInfo
}

// generatorKeys maps kustomize's builtin generator kinds (as named in
// origin.configuredBy) to their kustomization keys.
var generatorKeys = map[string]string{
	"ConfigMapGenerator": "configMapGenerator",
	"SecretGenerator":    "secretGenerator",
}

// locate finds where a rendered object came from. Generated objects point
// at their generator's entry in the kustomization that configured them.
func (f *lineFinder) locate(dir, originPath, configuredIn, generatorKind, kind, name string) Location {
	if configuredIn != "" {
		file := path.Join(dir, configuredIn)
		return Location{File: file, Line: f.generatorLine(file, generatorKeys[generatorKind], name)}
	}
	file := path.Join(dir, originPath)
	return Location{File: file, Line: f.objectLine(file, kind, name)}
}

// objectLine finds the document defining kind/name in file. Kustomize may
// have renamed the object (namePrefix, nameSuffix), so the best candidate
// is the same kind whose name is the longest part of the rendered name; a
// file's only document, or its first, is the fallback.
func (f *lineFinder) objectLine(file, kind, name string) int {
	docs := f.index(file)
	best, bestLen := 0, -1
	for _, d := range docs {
		if d.kind != kind || !strings.Contains(name, d.name) {
			continue
		}
		if len(d.name) > bestLen {
			best, bestLen = d.line, len(d.name)
		}
	}
	if bestLen >= 0 {
		return best
	}
	for _, d := range docs {
		if d.kind == kind {
			return d.line
		}
	}
	if len(docs) > 0 {
		return docs[0].line
	}
	return 0
}

func (f *lineFinder) index(file string) []docInfo {
	if d, ok := f.docs[file]; ok {
		return d
	}
	var docs []docInfo
	data, err := fs.ReadFile(f.repo, file)
	if err == nil {
		for _, c := range splitDocuments(data) {
			root, p := parseChunk(file, c)
			if p != nil || root == nil || root.Kind != yaml.MappingNode {
				continue
			}
			docs = append(docs, docInfo{kind: scalarAt(root, "kind"), name: scalarAt(scalarMap(root, "metadata"), "name"), line: c.line + root.Line - 1})
			if items := scalarMap(root, "items"); items != nil && items.Kind == yaml.SequenceNode {
				for _, it := range items.Content {
					if it.Kind == yaml.MappingNode {
						docs = append(docs, docInfo{kind: scalarAt(it, "kind"), name: scalarAt(scalarMap(it, "metadata"), "name"), line: c.line + it.Line - 1})
					}
				}
			}
		}
	}
	f.docs[file] = docs
	return docs
}

// generatorLine finds the generator entry (under key) whose name is the
// longest part of the generated object's name; else the key's line.
func (f *lineFinder) generatorLine(file, key, name string) int {
	data, err := fs.ReadFile(f.repo, file)
	if err != nil {
		return 0
	}
	c := splitDocuments(data)[0]
	root, p := parseChunk(file, c)
	if p != nil || root == nil || root.Kind != yaml.MappingNode {
		return 0
	}
	off := c.line - 1
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != key {
			continue
		}
		best, bestLen := root.Content[i].Line+off, -1
		if list := root.Content[i+1]; list.Kind == yaml.SequenceNode {
			for _, e := range list.Content {
				n := scalarAt(e, "name")
				if e.Kind == yaml.MappingNode && n != "" && strings.Contains(name, n) && len(n) > bestLen {
					best, bestLen = e.Line+off, len(n)
				}
			}
		}
		return best
	}
	return 1
}

// scalarMap returns the value node of key in mapping m, or nil.
func scalarMap(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// scalarAt returns the string value of key in mapping m, or "".
func scalarAt(m *yaml.Node, key string) string {
	if v := scalarMap(m, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}
