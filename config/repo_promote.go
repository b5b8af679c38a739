package config

import (
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
			list, ok := p.strList(f.value, at)
			if !ok {
				return
			}
			for i, v := range list {
				clean, err := cleanRepoPath(v)
				if err != nil {
					p.add(f.value.Content[i].Line, "%s[%d]: %v", at, i, err)
					continue
				}
				pr.Files = append(pr.Files, clean)
			}
		}},
}

// readPromote reads an environment's promote mapping.
func readPromote(p *problems, f entry, at string, s *envState) {
	if f.value.Kind != yaml.MappingNode {
		p.add(f.line, "%s: want a mapping (from, images, files), got %s", at, kindName(f.value))
		return
	}
	pr := &Promote{}
	s.promoteLines = map[string]int{}
	readKeys(p, f.value, at, f.line, promoteKeys, pr, s.promoteLines)
	if !pr.Images && len(pr.Files) == 0 {
		p.add(f.line, "%s: promotes nothing: set images: true or list files", at)
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
	for _, e := range envs {
		known[e.Name] = true
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
		}
	}
}
