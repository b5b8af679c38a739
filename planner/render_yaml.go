package planner

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/tugboatops/tugboat/internal/yamlerr"
)

// maxExpandedNodes bounds how many nodes a document may have once its YAML
// aliases are expanded. A "billion laughs" document is a few hundred bytes
// that expand exponentially; counting the expansion on the unexpanded tree
// (with memoization) rejects it in microseconds, before any decoder that
// expands aliases sees it. Real manifests use anchors sparingly: the
// largest CRDs in common use have well under 100,000 nodes.
const maxExpandedNodes = 1_000_000

// chunk is one YAML document of a file, split the way kubectl splits
// (a line starting with "---" separates documents), so that what
// `kubectl apply -f` accepts renders the same here.
type chunk struct {
	line int // 1-based line of the chunk's first line in its file
	data []byte
}

func splitDocuments(data []byte) []chunk {
	return slices.Collect(documents(data))
}

// documents yields the chunks of data one by one, so that a file of
// millions of documents is never held as millions of chunks.
func documents(data []byte) iter.Seq[chunk] {
	return func(yield func(chunk) bool) {
		start, startLine, line := 0, 1, 1
		for pos := 0; pos < len(data); {
			end := bytes.IndexByte(data[pos:], '\n')
			next := len(data)
			if end >= 0 {
				next = pos + end + 1
			}
			if bytes.HasPrefix(data[pos:next], []byte("---")) {
				if !yield(chunk{line: startLine, data: data[start:pos]}) {
					return
				}
				start, startLine = next, line+1
			}
			pos = next
			line++
		}
		yield(chunk{line: startLine, data: data[start:]})
	}
}

// yamlProblem turns a YAML parser error about c into a Problem at the
// line of file where the document actually goes wrong. The search takes no
// context: renders run in a child process under a time limit of their own.
func yamlProblem(file string, c chunk, err error) Problem {
	line, msg := yamlerr.Locate(context.Background(), c.data, err)
	return Problem{Source: Location{File: file, Line: c.line + line - 1}, Message: "invalid YAML: " + msg}
}

// parseChunk parses one document into a node tree (aliases unexpanded) and
// refuses alias bombs. It returns nil for an empty document.
func parseChunk(file string, c chunk) (*yaml.Node, *Problem) {
	var doc yaml.Node
	if err := yaml.Unmarshal(c.data, &doc); err != nil {
		p := yamlProblem(file, c, err)
		return nil, &p
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if n := expandedSize(root, map[*yaml.Node]int{}); n > maxExpandedNodes {
		return nil, &Problem{
			Source:  Location{File: file, Line: c.line + root.Line - 1},
			Message: fmt.Sprintf("YAML aliases expand this document to more than %d nodes (an alias bomb?); refusing to render it", maxExpandedNodes),
		}
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, nil
	}
	return root, nil
}

// expandedSize counts the nodes n stands for with every alias expanded,
// saturating at maxExpandedNodes+1.
func expandedSize(n *yaml.Node, memo map[*yaml.Node]int) int {
	if v, ok := memo[n]; ok {
		return v
	}
	memo[n] = maxExpandedNodes + 1 // a cycle through an alias counts as too big
	size := 1
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		size = expandedSize(n.Alias, memo)
	}
	for _, c := range n.Content {
		size += expandedSize(c, memo)
		if size > maxExpandedNodes {
			size = maxExpandedNodes + 1
			break
		}
	}
	memo[n] = size
	return size
}

// decodeManifests decodes a YAML or JSON file (one or more documents) into
// objects, each with the line its document (or List item) starts at.
// Documents are converted with sigs.k8s.io/yaml, as kubectl does, so YAML
// 1.1 scalars (yes, no, on) mean what they mean to kubectl.
//
// Every object and every document that is not one (each makes a problem)
// counts toward budget: past it, decoding stops with errTooManyObjects, so a
// file of a million "x" documents is one problem, not a million.
func decodeManifests(file string, data []byte, lim Limits, budget int) ([]Object, []Problem, error) {
	var objs []Object
	var probs []Problem
	for c := range documents(data) {
		if len(objs)+len(probs) > budget {
			return objs, probs, errTooManyObjects(lim)
		}
		if len(bytes.TrimSpace(c.data)) == 0 {
			continue // an empty document: nothing to parse
		}
		if len(c.data) > lim.MaxDocumentBytes {
			probs = append(probs, Problem{Source: Location{File: file, Line: c.line},
				Message: fmt.Sprintf("document is %s, over the %s limit", byteSize(int64(len(c.data))), byteSize(int64(lim.MaxDocumentBytes)))})
			continue
		}
		root, p := parseChunk(file, c)
		if p != nil {
			probs = append(probs, *p)
			continue
		}
		if root == nil {
			continue
		}
		line := c.line + root.Line - 1
		if root.Kind != yaml.MappingNode {
			probs = append(probs, Problem{Source: Location{File: file, Line: line},
				Message: "document is not a Kubernetes object (want a mapping with apiVersion, kind and metadata)"})
			continue
		}
		js, err := sigsyaml.YAMLToJSON(c.data)
		if err != nil {
			probs = append(probs, yamlProblem(file, c, err))
			continue
		}
		var m map[string]interface{}
		if err := utiljson.Unmarshal(js, &m); err != nil {
			probs = append(probs, Problem{Source: Location{File: file, Line: line}, Message: "cannot decode document: " + err.Error()})
			continue
		}
		if m == nil {
			continue
		}
		obj := &unstructured.Unstructured{Object: m}
		items, isList := listItems(obj)
		if !isList {
			objs = append(objs, Object{Obj: obj, Source: Location{File: file, Line: line}})
			continue
		}
		itemLines := listItemLines(root)
		for i, it := range items {
			itemLine := line
			if i < len(itemLines) {
				itemLine = c.line + itemLines[i] - 1
			}
			im, ok := it.(map[string]interface{})
			if !ok {
				probs = append(probs, Problem{Source: Location{File: file, Line: itemLine},
					Message: fmt.Sprintf("item %d of %s is not an object", i, obj.GetKind())})
				continue
			}
			objs = append(objs, Object{Obj: &unstructured.Unstructured{Object: im}, Source: Location{File: file, Line: itemLine}})
		}
	}
	if len(objs)+len(probs) > budget {
		return objs, probs, errTooManyObjects(lim)
	}
	return objs, probs, nil
}

// listItems returns the items of a List kind (v1 List, or any *List kind
// with an items array, as kubectl flattens them).
func listItems(obj *unstructured.Unstructured) ([]interface{}, bool) {
	if !strings.HasSuffix(obj.GetKind(), "List") {
		return nil, false
	}
	items, ok := obj.Object["items"].([]interface{})
	return items, ok
}

func listItemLines(root *yaml.Node) []int {
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "items" && root.Content[i+1].Kind == yaml.SequenceNode {
			var lines []int
			for _, it := range root.Content[i+1].Content {
				lines = append(lines, it.Line)
			}
			return lines
		}
	}
	return nil
}

// byteSize formats a size for messages: "4 MiB", "1.5 KiB", "12 bytes".
func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return trimZero(float64(n)/(1<<20)) + " MiB"
	case n >= 1<<10:
		return trimZero(float64(n)/(1<<10)) + " KiB"
	}
	return fmt.Sprintf("%d bytes", n)
}

func trimZero(f float64) string {
	return strings.TrimSuffix(strconv.FormatFloat(f, 'f', 1, 64), ".0")
}
