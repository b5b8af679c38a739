package planner

import (
	"fmt"
	"io/fs"
	"path"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/konfig"
)

// kustomizationFile returns the path of dir's kustomization file, or "".
func kustomizationFile(repo fs.FS, dir string) string {
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		p := path.Join(dir, name)
		if fi, err := fs.Stat(repo, p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// isRemoteRef reports whether a kustomization entry would make krusty
// fetch something: kustomize treats as remote any URL (http, https, ssh,
// file, with or without a "git::" prefix), scp-style "user@host:path", and
// anything starting with github.com. It checks for those before looking
// at the local file system, so an entry is remote whether or not a local
// path of that name exists. This is a superset of kustomize's own rules.
func isRemoteRef(s string) bool {
	l := strings.ToLower(strings.TrimSpace(s))
	l = strings.TrimPrefix(l, "git::")
	if strings.Contains(l, "://") || strings.HasPrefix(l, "github.com/") || strings.HasPrefix(l, "github.com:") {
		return true
	}
	first, _, _ := strings.Cut(l, "/")
	return strings.Contains(first, "@") || strings.Contains(l, "?ref=") || strings.Contains(l, "?version=")
}

// Keys of a kustomization whose values are content, never a path: they may
// legitimately hold URLs (an annotation linking to a runbook, a literal
// setting a URL) and are not scanned. Everything else is, including keys
// a future kustomize adds, so a new path-valued field cannot slip through.
var kustomizeContentKeys = map[string]bool{
	"apiVersion": true, "kind": true, "metadata": true,
	"images": true, "labels": true, "commonLabels": true, "commonAnnotations": true,
	"namePrefix": true, "nameSuffix": true, "namespace": true, "replicas": true,
	"literals": true, "patch": true, "target": true, "options": true, "vars": true,
	"buildMetadata": true, "generatorOptions": true, "sortOptions": true,
	"annotations": true, "select": true, "reject": true, "source": true, "targets": true,
}

// Keys whose entries are other kustomizations (or resource files) that the
// scan must follow.
var kustomizeNestingKeys = map[string]bool{
	"resources": true, "bases": true, "components": true,
	"generators": true, "transformers": true, "validators": true,
}

// kscan walks every kustomization reachable from an environment's path
// before krusty sees any of them, so a remote reference or an escape from
// the repository is a problem at its file and line rather than a fetch.
type kscan struct {
	repo     fs.FS
	symlinks map[string]bool // repo paths skipped because they are links
	visited  map[string]bool
	probs    []Problem
}

func (s *kscan) problem(file string, line int, format string, args ...any) {
	s.probs = append(s.probs, Problem{Source: Location{File: file, Line: line}, Message: fmt.Sprintf(format, args...)})
}

// scanDir scans the kustomization in dir; from names the referring entry
// for the "no kustomization" message.
func (s *kscan) scanDir(dir string, fromFile string, fromLine int) {
	if s.visited[dir] {
		return
	}
	s.visited[dir] = true
	kfile := kustomizationFile(s.repo, dir)
	if kfile == "" {
		s.problem(fromFile, fromLine, "%s is a directory without a kustomization.yaml", dir)
		return
	}
	data, err := fs.ReadFile(s.repo, kfile)
	if err != nil {
		s.problem(kfile, 0, "cannot read: %v", err)
		return
	}
	chunks := splitDocuments(data)
	root, p := parseChunk(kfile, chunks[0])
	if p != nil {
		s.probs = append(s.probs, *p)
		return
	}
	if root == nil || root.Kind != yaml.MappingNode {
		s.problem(kfile, 1, "a kustomization must be a mapping")
		return
	}
	off := chunks[0].line - 1
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i].Value, root.Content[i+1]
		switch {
		case key == "helmCharts" || key == "helmChartInflationGenerator" || key == "helmGlobals":
			// krusty would run the helm binary, which fetches charts.
			s.problem(kfile, root.Content[i].Line+off, "%s: Kustomize's Helm support is disabled (it runs the helm binary and downloads charts); render the chart with a helm: environment in .tugboat.yaml instead", key)
		case kustomizeContentKeys[key]:
		case kustomizeNestingKeys[key]:
			s.scanRefs(kfile, dir, key, val, off)
		case key == "secretGenerator":
			s.scanSecretLiterals(kfile, val, off)
			s.scanStrings(kfile, key, val, off)
		default:
			s.scanStrings(kfile, key, val, off)
		}
	}
}

// scanRefs checks a resources-like list: each entry is a local file or a
// directory holding another kustomization, which is scanned in turn.
func (s *kscan) scanRefs(kfile, dir, key string, list *yaml.Node, off int) {
	if list.Kind != yaml.SequenceNode {
		s.scanStrings(kfile, key, list, off)
		return
	}
	for _, n := range list.Content {
		line := n.Line + off
		if n.Kind != yaml.ScalarNode {
			if key == "generators" {
				s.scanSecretGeneratorConfig(kfile, n, off)
			}
			s.scanStrings(kfile, key, n, off) // an inline generator or transformer config
			continue
		}
		ref := n.Value
		if strings.Contains(ref, "\n") {
			// Inline configuration, not a path.
			if key == "generators" {
				s.scanInlineGenerators(kfile, n, off)
			}
			continue
		}
		if isRemoteRef(ref) {
			s.problem(kfile, line, "%s: %q is a remote reference; renders use only the repository's own files (vendor it into the repository)", key, ref)
			continue
		}
		if path.IsAbs(ref) {
			s.problem(kfile, line, "%s: %q is absolute; want a path relative to the kustomization", key, ref)
			continue
		}
		target := path.Join(dir, ref)
		if target == ".." || strings.HasPrefix(target, "../") {
			s.problem(kfile, line, "%s: %q is outside the repository", key, ref)
			continue
		}
		fi, err := fs.Stat(s.repo, target)
		switch {
		case s.symlinks[target]:
			s.problem(kfile, line, "%s: %q is a symbolic link; renders do not follow links", key, ref)
		case err != nil:
			s.problem(kfile, line, "%s: %q does not exist in the repository", key, ref)
		case fi.IsDir():
			s.scanDir(target, kfile, line)
		case key == "resources":
			s.checkYAML(target)
		case key == "generators":
			s.scanGeneratorFile(target)
		}
	}
}

// scanStrings flags every remote-looking string below n, skipping content
// keys at any depth.
func (s *kscan) scanStrings(kfile, key string, n *yaml.Node, off int) {
	switch n.Kind {
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "\n") && isRemoteRef(n.Value) {
			s.problem(kfile, n.Line+off, "%s: %q is a remote reference; renders use only the repository's own files (vendor it into the repository)", key, n.Value)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			s.scanStrings(kfile, key, c, off)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if !kustomizeContentKeys[n.Content[i].Value] {
				s.scanStrings(kfile, key, n.Content[i+1], off)
			}
		}
	}
}

// checkYAML reports syntax errors in a resource file at their own line;
// krusty would report them at the kustomization, without one.
func (s *kscan) checkYAML(file string) {
	if s.visited[file] {
		return
	}
	s.visited[file] = true
	data, err := fs.ReadFile(s.repo, file)
	if err != nil {
		return // krusty reports it
	}
	for _, c := range splitDocuments(data) {
		if _, p := parseChunk(file, c); p != nil {
			s.probs = append(s.probs, *p)
		}
	}
}
