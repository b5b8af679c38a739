package config

import (
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Promote says what promoting into an environment copies, and from where:
// the image entries of From's kustomization (Images) and whole files
// (Files), taken at the commit From has deployed.
type Promote struct {
	// From is the environment promoted from.
	From string
	// Images copies From's Kustomize `images:` entries (newName, newTag,
	// digest) into this environment's kustomization.
	Images bool
	// Files are repository paths copied from From's deployed tree as they
	// are. Each is cleaned and repository-relative.
	Files []string
	// Values are dotted Helm value paths ("image.tag") copied from what
	// From deploys (its set entries, values files, chart values, last
	// wins) into this environment's last values file. Both environments
	// are Helm environments.
	Values []string
}

// promoteKeys are the settings under an environment's promote.
var promoteKeys = []key[*Promote]{
	{name: "from", required: true, hint: "the environment promoted from",
		read: func(p *problems, f entry, at string, pr *Promote) {
			if v, ok := p.str(f.value, at); ok {
				pr.From = v
			}
		}},
	{name: "images",
		read: func(p *problems, f entry, at string, pr *Promote) {
			if b, ok := p.boolean(f.value, at); ok {
				pr.Images = b
			}
		}},
	{name: "files",
		read: func(p *problems, f entry, at string, pr *Promote) {
			pr.Files = append(pr.Files, p.repoPaths(f, at)...)
		}},
	{name: "values",
		read: func(p *problems, f entry, at string, pr *Promote) {
			list, ok := p.strList(f.value, at)
			if !ok {
				return
			}
			for i, v := range list {
				if v == "" || strings.HasPrefix(v, ".") || strings.HasSuffix(v, ".") || strings.Contains(v, "..") {
					p.add(f.value.Content[i].Line, "%s[%d]: %q is not a dotted value path (like image.tag)", at, i, v)
					continue
				}
				pr.Values = append(pr.Values, v)
			}
		}},
}

// readPromote reads an environment's promote mapping.
func readPromote(p *problems, f entry, at string, s *envState) {
	if f.value.Kind != yaml.MappingNode {
		p.add(f.line, "%s: want a mapping (from, images, files, values), got %s", at, kindName(f.value))
		return
	}
	pr := &Promote{}
	s.promoteLines = map[string]int{}
	readKeys(p, f.value, at, f.line, promoteKeys, pr, s.promoteLines)
	if !pr.Images && len(pr.Files) == 0 && len(pr.Values) == 0 {
		p.add(f.line, "%s: promotes nothing: set images: true or list files or values", at)
	}
	s.env.Promote = pr
}

// readBreakGlass reads break_glass: who may roll the environment back at
// once (`/rollback <env> --now`) besides admins.
func readBreakGlass(p *problems, f entry, at string, s *envState) {
	list, ok := p.strList(f.value, at)
	if !ok {
		return
	}
	for i, item := range list {
		a, err := parseApplier(item)
		if err != nil {
			p.add(f.value.Content[i].Line, "%s[%d]: %v", at, i, err)
			continue
		}
		s.env.BreakGlass = append(s.env.BreakGlass, a)
	}
}

// checkPromote reports promote.from naming an unknown environment or the
// environment itself.
func (p *problems) checkPromote(envs []Environment, lines map[string]int) {
	known := map[string]bool{}
	helm := map[string]bool{}
	for _, e := range envs {
		known[e.Name] = true
		helm[e.Name] = e.Helm != nil
	}
	for _, e := range envs {
		if e.Promote == nil || e.Promote.From == "" {
			continue
		}
		line := lines[join(join(join("environments", e.Name), "promote"), "from")]
		switch {
		case e.Promote.From == e.Name:
			p.add(line, "environments.%s.promote.from: an environment cannot be promoted from itself", e.Name)
		case !known[e.Promote.From]:
			p.add(line, "environments.%s.promote.from: unknown environment %q", e.Name, e.Promote.From)
		case len(e.Promote.Values) > 0 && (!helm[e.Name] || !helm[e.Promote.From]):
			p.add(lines[join(join(join("environments", e.Name), "promote"), "values")], "environments.%s.promote.values: values are copied between Helm environments only (both %s and %s need helm:)", e.Name, e.Promote.From, e.Name)
		case len(e.Promote.Values) > 0 && len(e.Helm.Values) == 0:
			p.add(lines[join(join(join("environments", e.Name), "promote"), "values")], "environments.%s.promote.values: %s has no values file to write them to (helm.values)", e.Name, e.Name)
		}
	}
}
