package planner

import (
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"

	"helm.sh/helm/v3/pkg/release"
)

// helmObjects decodes a release manifest ("---\n# Source: shop/templates/a.yaml\n…"
// per document, CRDs of crds/ last) into objects located at their
// template's repository file and line.
func helmObjects(repo fs.FS, paths chartPaths, manifest string, lim Limits) ([]Object, []Problem) {
	var objs []Object
	var probs []Problem
	lines := &templateLines{repo: repo, chunks: map[string][]chunk{}, seen: map[string]int{}}
	source := ""
	for c := range documents([]byte(manifest)) {
		if s, ok := sourceComment(c.data); ok {
			source = paths.repoPath(s)
		}
		if source == "" {
			continue
		}
		o, p, err := decodeManifests(source, c.data, lim, lim.MaxObjects-len(objs)-len(probs))
		if err != nil {
			return nil, append([]Problem{limitProblem(err, source)}, probs...)
		}
		for i := range p {
			p[i].Source.Line = lines.locate(source, "")
			p[i].Message += " (in the template's rendered output)"
		}
		for i := range o {
			o[i].Source.Line = lines.locate(source, o[i].Obj.GetKind())
		}
		objs = append(objs, o...)
		probs = append(probs, p...)
	}
	return objs, probs
}

// sourceComment reads Helm's "# Source: PATH" line at the top of a
// manifest document.
func sourceComment(doc []byte) (string, bool) {
	first, _, _ := strings.Cut(strings.TrimLeft(string(doc), "\n"), "\n")
	s, ok := strings.CutPrefix(first, "# Source: ")
	return strings.TrimSpace(s), ok
}

// templateLines finds the line of a rendered object in its template.
// Templates are not YAML, so the line is that of the template's document
// (split at its literal "---" lines) whose literal "kind:" names the
// object's kind; the n-th object of a kind from one template gets the
// n-th such document when there are enough (a document rendered several
// times in a loop gets its one document), else line 1.
type templateLines struct {
	repo   fs.FS
	chunks map[string][]chunk
	seen   map[string]int // file + kind → objects located so far
}

func (t *templateLines) locate(file, kind string) int {
	cs, ok := t.chunks[file]
	if !ok {
		data, err := fs.ReadFile(t.repo, file)
		if err == nil {
			cs = splitDocuments(data)
		}
		t.chunks[file] = cs
	}
	if kind == "" || len(cs) == 0 {
		return 1
	}
	re := regexp.MustCompile(`(?m)^\s*kind:\s*["']?` + regexp.QuoteMeta(kind) + `["']?\s*$`)
	var matches []int
	for _, c := range cs {
		if re.Match(c.data) {
			matches = append(matches, firstContentLine(c))
		}
	}
	key := file + "\x00" + kind
	n := t.seen[key]
	t.seen[key]++
	switch {
	case len(matches) == 0:
		return 1
	case n < len(matches):
		return matches[n]
	default:
		return matches[len(matches)-1]
	}
}

// firstContentLine skips a document's leading blank and comment lines.
func firstContentLine(c chunk) int {
	line := c.line
	for _, l := range strings.Split(string(c.data), "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			return line
		}
		line++
	}
	return c.line
}

// hookNote lists the chart's hooks, which tugboat does not run: a plan
// applies the release's objects only. Test hooks (`helm test`) are left
// out silently; they are never part of an install.
func hookNote(paths chartPaths, hooks []*release.Hook) []Problem {
	var names []string
	for _, h := range hooks {
		if slices.Contains(h.Events, release.HookTest) {
			continue
		}
		events := make([]string, len(h.Events))
		for i, e := range h.Events {
			events[i] = string(e)
		}
		names = append(names, fmt.Sprintf("%s/%s (%s, %s)", h.Kind, h.Name, strings.Join(events, ", "), paths.repoPath(h.Path)))
	}
	if len(names) == 0 {
		return nil
	}
	word := "hooks"
	if len(names) == 1 {
		word = "hook"
	}
	return []Problem{{Note: true, Message: fmt.Sprintf("%d Helm %s not applied (tugboat applies the chart's objects, never its hooks): %s", len(names), word, strings.Join(names, "; "))}}
}
