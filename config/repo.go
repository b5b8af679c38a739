package config

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation"
)

// RepoFile is the name of the per-repository configuration file.
const RepoFile = ".tugboat.yaml"

// Requirements an environment can name in requires.
const (
	RequireApproved  = "approved"
	RequireMergeable = "mergeable"
)

// Defaults of an environment's optional settings (see DESIGN.md).
const (
	DefaultApply     = ApplyOnMerge
	DefaultApprovals = 1
	DefaultWait      = 5 * time.Minute
)

// DefaultRequires returns the default apply requirements.
func DefaultRequires() []string { return []string{RequireApproved, RequireMergeable} }

// RepoConfig is a parsed .tugboat.yaml.
type RepoConfig struct {
	Version int
	// Environments are sorted by name, so every listing (check runs,
	// comments) has the same order whatever the file's order.
	Environments []Environment
}

// Env returns the environment called name.
func (c *RepoConfig) Env(name string) (Environment, bool) {
	for _, e := range c.Environments {
		if e.Name == name {
			return e, true
		}
	}
	return Environment{}, false
}

// ParseRepo parses and validates a .tugboat.yaml. file names it in errors.
// On invalid input the error is an Errors holding every problem found, in
// line order.
func ParseRepo(data []byte, file string) (*RepoConfig, error) {
	p := &problems{file: file}
	cfg := p.repo(data)
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool { return p.errs[i].Line < p.errs[j].Line })
		return nil, p.errs
	}
	return cfg, nil
}

func (p *problems) repo(data []byte) *RepoConfig {
	root := p.parseDocument(data)
	if root == nil {
		return nil
	}
	cfg := &RepoConfig{}
	var envs *yaml.Node
	haveVersion := false
	for _, e := range p.mappingEntries(root, "") {
		switch e.key {
		case "version":
			haveVersion = true
			if v, ok := p.integer(e.value, "version"); ok {
				if v != 1 {
					p.add(e.line, "version: unsupported version %d (want 1)", v)
				}
				cfg.Version = v
			}
		case "environments":
			envs = e.value
			if envs.Kind != yaml.MappingNode {
				p.add(e.line, "environments: want a mapping of environment names to settings, got %s", kindName(envs))
				envs = nil
			}
		default:
			p.add(e.line, "unknown key %q (want version or environments)", e.key)
		}
	}
	if !haveVersion {
		p.add(root.Line, "version: missing (want version: 1)")
	}
	if envs == nil {
		if !hasKey(root, "environments") {
			p.add(root.Line, "environments: missing")
		}
		return cfg
	}
	afterLines := map[string]map[string]int{}
	for _, e := range p.mappingEntries(envs, "environments") {
		env, lines := p.environment(e)
		cfg.Environments = append(cfg.Environments, env)
		afterLines[env.Name] = lines
	}
	sort.Slice(cfg.Environments, func(i, j int) bool { return cfg.Environments[i].Name < cfg.Environments[j].Name })
	p.checkAfter(cfg.Environments, afterLines)
	return cfg
}

func hasKey(m *yaml.Node, key string) bool {
	for i := 0; i < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return true
		}
	}
	return false
}

var applyModes = []ApplyMode{ApplyOnComment, ApplyOnMerge, ApplyAuto}

// environment reads one environment; it also returns the line of each
// after entry, for the cycle check that needs every environment first.
func (p *problems) environment(e entry) (Environment, map[string]int) {
	where := join("environments", e.key)
	env := Environment{
		Name:      e.key,
		Apply:     DefaultApply,
		Requires:  DefaultRequires(),
		Approvals: DefaultApprovals,
		Wait:      DefaultWait,
		After:     []string{},
		Ignore:    []IgnoreRule{},
	}
	afterLines := map[string]int{}
	if errs := validation.IsDNS1123Label(e.key); len(errs) > 0 {
		p.add(e.line, "%s: environment name %q is not a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters, starting and ending with a letter or digit); it names check runs, Leases and ApplySets", where, e.key)
	}
	if e.value.Kind != yaml.MappingNode {
		p.add(e.line, "%s: want a mapping of settings, got %s", where, kindName(e.value))
		return env, afterLines
	}
	var haveCluster, havePath bool
	for _, f := range p.mappingEntries(e.value, where) {
		at := join(where, f.key)
		v := f.value
		if isNull(v) && f.key != "cluster" && f.key != "path" {
			continue // an empty optional setting keeps its default
		}
		switch f.key {
		case "cluster":
			haveCluster = true
			if s, ok := p.str(v, at); ok {
				if s == "" {
					p.add(f.line, "%s: must not be empty", at)
				}
				env.Cluster = s
			}
		case "path":
			havePath = true
			if s, ok := p.str(v, at); ok {
				if clean, err := cleanRepoPath(s); err != nil {
					p.add(f.line, "%s: %v", at, err)
				} else {
					env.Path = clean
				}
			}
		case "namespace":
			if s, ok := p.str(v, at); ok {
				if errs := validation.IsDNS1123Label(s); len(errs) > 0 {
					p.add(f.line, "%s: %q is not a valid namespace name: %s", at, s, strings.Join(errs, "; "))
				}
				env.Namespace = s
			}
		case "apply":
			if s, ok := p.str(v, at); ok {
				mode := ApplyMode(s)
				if !contains(applyModes, mode) {
					p.add(f.line, "%s: unknown apply mode %q (want on-comment, on-merge or auto)", at, s)
				}
				env.Apply = mode
			}
		case "requires":
			if list, ok := p.strList(v, at); ok {
				for i, r := range list {
					if r != RequireApproved && r != RequireMergeable {
						p.add(v.Content[i].Line, "%s: unknown requirement %q (want approved or mergeable)", at, r)
					}
				}
				env.Requires = list
			}
		case "approvals":
			if n, ok := p.integer(v, at); ok {
				if n < 0 {
					p.add(f.line, "%s: must not be negative", at)
				}
				env.Approvals = n
			}
		case "prune":
			if b, ok := p.boolean(v, at); ok {
				env.Prune = b
			}
		case "wait":
			if s, ok := p.str(v, at); ok {
				d, err := time.ParseDuration(s)
				switch {
				case err != nil:
					p.add(f.line, "%s: %q is not a duration (like 90s, 5m or 1h)", at, s)
				case d <= 0:
					p.add(f.line, "%s: must be positive", at)
				}
				env.Wait = d
			}
		case "after":
			if list, ok := p.strList(v, at); ok {
				env.After = list
				for i, a := range list {
					afterLines[a] = v.Content[i].Line
				}
			}
		case "ignore":
			env.Ignore = p.ignoreRules(v, at)
		default:
			p.add(f.line, "%s: unknown key %q (want cluster, path, namespace, apply, requires, approvals, prune, wait, after or ignore)", where, f.key)
		}
	}
	if !haveCluster {
		p.add(e.line, "%s: cluster: missing (a name from the server's cluster registry)", where)
	}
	if !havePath {
		p.add(e.line, "%s: path: missing (the directory to render, relative to the repository root)", where)
	}
	return env, afterLines
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// cleanRepoPath turns a path from the config into a clean, slash-separated
// path relative to the repository root, refusing anything that could leave
// the repository.
func cleanRepoPath(s string) (string, error) {
	switch {
	case s == "":
		return "", fmt.Errorf("must not be empty (use . for the repository root)")
	case strings.Contains(s, `\`):
		return "", fmt.Errorf("%q: use / to separate directories", s)
	case path.IsAbs(s):
		return "", fmt.Errorf("%q is absolute; want a path relative to the repository root", s)
	}
	clean := path.Clean(s)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("%q is outside the repository", s)
	}
	return clean, nil
}

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

// checkAfter reports after entries naming unknown environments and every
// cycle, once, at the entry that closes it.
func (p *problems) checkAfter(envs []Environment, lines map[string]map[string]int) {
	byName := map[string]Environment{}
	for _, e := range envs {
		byName[e.Name] = e
	}
	for _, e := range envs {
		for _, a := range e.After {
			if _, ok := byName[a]; !ok {
				p.add(lines[e.Name][a], "environments.%s.after: unknown environment %q", e.Name, a)
			} else if a == e.Name {
				p.add(lines[e.Name][a], "environments.%s.after: an environment cannot come after itself", e.Name)
			}
		}
	}
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(name string)
	visit = func(name string) {
		state[name] = visiting
		stack = append(stack, name)
		for _, a := range byName[name].After {
			if _, ok := byName[a]; !ok || a == name {
				continue
			}
			switch state[a] {
			case visiting:
				start := 0
				for i, s := range stack {
					if s == a {
						start = i
					}
				}
				cycle := append(append([]string{}, stack[start:]...), a)
				p.add(lines[name][a], "environments.%s.after: %q forms a cycle: %s", name, a, strings.Join(cycle, " → "))
			case unvisited:
				visit(a)
			}
		}
		stack = stack[:len(stack)-1]
		state[name] = done
	}
	for _, e := range envs {
		if state[e.Name] == unvisited {
			visit(e.Name)
		}
	}
}
