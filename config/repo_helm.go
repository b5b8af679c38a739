package config

import (
	"regexp"

	yaml "go.yaml.in/yaml/v3"
)

// Helm says how an environment renders a Helm chart of the repository
// instead of a path of manifests.
type Helm struct {
	// Chart is the chart's directory, cleaned and repository-relative.
	Chart string
	// Release is the release name (.Release.Name); the environment's name
	// when the file names none.
	Release string
	// Values are values files, repository-relative, applied in order after
	// the chart's own values.yaml (like helm's -f).
	Values []string
	// Set are the `set:` entries in the file's order, applied last (like
	// helm's --set).
	Set []HelmSet
}

// HelmSet is one `set:` entry: a dotted value path and its value, as
// helm's --set reads "Key=Value".
type HelmSet struct {
	Key   string
	Value string
}

// Sources are the repository paths whose change can change what env
// renders: its path, or its chart directory and values files. (A
// Kustomize base elsewhere is found by comparing renders.)
func (e Environment) Sources() []string {
	if e.Helm == nil {
		return []string{e.Path}
	}
	return append([]string{e.Helm.Chart}, e.Helm.Values...)
}

// releaseName is what Helm accepts as a release name (its own
// validation: a DNS-1123 subdomain of at most 53 characters, since Helm
// builds Secret names and labels from it).
var releaseName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// helmKeys are the settings under an environment's helm.
var helmKeys = []key[*Helm]{
	{name: "chart", required: true, hint: "the chart's directory, relative to the repository root",
		read: func(p *problems, f entry, at string, h *Helm) {
			if v, ok := p.str(f.value, at); ok {
				if clean, err := cleanRepoPath(v); err != nil {
					p.add(f.line, "%s: %v", at, err)
				} else {
					h.Chart = clean
				}
			}
		}},
	{name: "release",
		read: func(p *problems, f entry, at string, h *Helm) {
			if v, ok := p.str(f.value, at); ok {
				if len(v) > 53 || !releaseName.MatchString(v) {
					p.add(f.line, "%s: %q is not a valid Helm release name (lower-case letters, digits, '-' and '.', at most 53 characters)", at, v)
				}
				h.Release = v
			}
		}},
	{name: "values",
		read: func(p *problems, f entry, at string, h *Helm) {
			h.Values = append(h.Values, p.repoPaths(f, at)...)
		}},
	{name: "set",
		read: func(p *problems, f entry, at string, h *Helm) {
			for _, e := range p.mappingEntries(f.value, at) {
				v := resolveAlias(e.value)
				if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
					p.add(e.line, "%s.%s: want a single value (a string, number or true/false), got %s", at, e.key, kindName(v))
					continue
				}
				if e.key == "" {
					p.add(e.line, "%s: empty value path", at)
					continue
				}
				h.Set = append(h.Set, HelmSet{Key: e.key, Value: v.Value})
			}
		}},
}

// readHelm reads an environment's helm mapping.
func readHelm(p *problems, f entry, at string, s *envState) {
	if f.value.Kind != yaml.MappingNode {
		p.add(f.line, "%s: want a mapping (chart, release, values, set), got %s", at, kindName(f.value))
		return
	}
	h := &Helm{Release: s.env.Name}
	readKeys(p, f.value, at, f.line, helmKeys, h, map[string]int{})
	s.env.Helm = h
}

// checkSource reports an environment with neither or both of path and
// helm.
func (p *problems) checkSource(env Environment, where string, line int, lines map[string]int) {
	switch {
	case env.Helm == nil && env.Path == "" && lines[join(where, "path")] == 0:
		p.add(line, "%s: path: missing (the directory to render, relative to the repository root; or helm: to render a chart)", where)
	case env.Helm != nil && lines[join(where, "path")] != 0:
		p.add(lines[join(where, "helm")], "%s: path and helm are mutually exclusive (path at line %d): an environment renders either a path of manifests or a Helm chart", where, lines[join(where, "path")])
	}
}
