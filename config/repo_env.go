package config

import (
	"fmt"
	"path"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation"
)

// envState is what reading one environment collects.
type envState struct {
	env *Environment
	// afterLines is the line of each after entry, for the cycle check that
	// needs every environment first.
	afterLines map[string]int
	// promoteLines are the lines of the promote settings.
	promoteLines map[string]int
	// pathRead: path had a value (an empty one is skipped, and must be
	// told apart from a missing one).
	pathRead bool
}

var applyModes = []ApplyMode{ApplyOnComment, ApplyOnMerge, ApplyAuto}

// envKeys are the settings of an environment, in the order the README and
// the unknown-key message list them.
var envKeys = []key[*envState]{
	{name: "cluster", required: true, hint: "a name from the server's cluster registry",
		doc: "a name from the server's cluster registry",
		read: func(p *problems, f entry, at string, s *envState) {
			if v, ok := p.str(f.value, at); ok {
				if v == "" {
					p.add(f.line, "%s: must not be empty", at)
				}
				s.env.Cluster = v
			}
		}},
	{name: "path", def: "— (required unless `helm`)",
		doc: "the directory to render, relative to the repository root (`kustomization.yaml` inside → Kustomize; else every `*.yaml`/`*.yml`/`*.json` below)",
		read: func(p *problems, f entry, at string, s *envState) {
			s.pathRead = true
			if v, ok := p.str(f.value, at); ok {
				if clean, err := cleanRepoPath(v); err != nil {
					p.add(f.line, "%s: %v", at, err)
				} else {
					s.env.Path = clean
				}
			}
		}},
	{name: "helm", def: "none",
		doc:  "render a Helm chart of the repository instead of `path`: `{chart: DIR, release: NAME, values: [FILE...], set: {KEY: VALUE}}` — `release` defaults to the environment's name, `values` files apply after the chart's `values.yaml` and `set` last, like `helm template -f … --set …`",
		read: readHelm},
	{name: "namespace", def: "none",
		doc: "namespace for namespaced objects that name none (without it they are a problem)",
		read: func(p *problems, f entry, at string, s *envState) {
			if v, ok := p.str(f.value, at); ok {
				if errs := validation.IsDNS1123Label(v); len(errs) > 0 {
					p.add(f.line, "%s: %q is not a valid namespace name: %s", at, v, strings.Join(errs, "; "))
				}
				s.env.Namespace = v
			}
		}},
	{name: "apply", def: "`" + string(DefaultApply) + "`",
		doc: "`on-comment` (apply before merge, on `/apply`), `on-merge` or `auto` (on-merge + self-heal)",
		read: func(p *problems, f entry, at string, s *envState) {
			if v, ok := p.str(f.value, at); ok {
				mode := ApplyMode(v)
				if !contains(applyModes, mode) {
					p.add(f.line, "%s: unknown apply mode %q (want on-comment, on-merge or auto)", at, v)
				}
				s.env.Apply = mode
			}
		}},
	{name: "requires", def: "`[" + strings.Join(DefaultRequires(), ", ") + "]`",
		doc: "what must hold before an apply: `approved`, `mergeable`",
		read: func(p *problems, f entry, at string, s *envState) {
			if list, ok := p.strList(f.value, at); ok {
				for i, r := range list {
					if r != RequireApproved && r != RequireMergeable {
						p.add(f.value.Content[i].Line, "%s: unknown requirement %q (want approved or mergeable)", at, r)
					}
				}
				s.env.Requires = list
			}
		}},
	{name: "approvals", def: fmt.Sprintf("`%d`", DefaultApprovals),
		doc: "approving reviews needed",
		read: func(p *problems, f entry, at string, s *envState) {
			if n, ok := p.integer(f.value, at); ok {
				if n < 0 {
					p.add(f.line, "%s: must not be negative", at)
				}
				s.env.Approvals = n
			}
		}},
	{name: "prune", def: "`false`",
		doc: "delete what tugboat applied earlier and is no longer rendered; with `false` a plan never shows deletes",
		read: func(p *problems, f entry, at string, s *envState) {
			if b, ok := p.boolean(f.value, at); ok {
				s.env.Prune = b
			}
		}},
	{name: "wait", def: "`" + shortDuration(DefaultWait) + "`",
		doc: "how long to wait for convergence (like `90s`, `5m`)",
		read: func(p *problems, f entry, at string, s *envState) {
			if v, ok := p.str(f.value, at); ok {
				d, err := time.ParseDuration(v)
				switch {
				case err != nil:
					p.add(f.line, "%s: %q is not a duration (like 90s, 5m or 1h)", at, v)
				case d <= 0:
					p.add(f.line, "%s: must be positive", at)
				}
				s.env.Wait = d
			}
		}},
	{name: "after", def: "`[]`",
		doc: "environments that must have converged at the same commit first",
		read: func(p *problems, f entry, at string, s *envState) {
			if list, ok := p.strList(f.value, at); ok {
				s.env.After = list
				for i, a := range list {
					s.afterLines[a] = f.value.Content[i].Line
				}
			}
		}},
	{name: "ignore", def: "`[]`",
		doc: "fields owned by controllers, left out of diff and apply: `{kind, name?, namespace?, group?, paths: [JSON pointer...]}`",
		read: func(p *problems, f entry, at string, s *envState) {
			s.env.Ignore = p.ignoreRules(f.value, at)
		}},
	{name: "appliers", def: "anyone with write access",
		doc:  "who may apply (admins always may): GitHub logins and teams as `team:org/slug`, like `[alice, team:acme/platform]`",
		read: readAppliers},
	{name: "production", def: "`false`",
		doc: "mark the environment's GitHub Deployments as production",
		read: func(p *problems, f entry, at string, s *envState) {
			if b, ok := p.boolean(f.value, at); ok {
				s.env.Production = b
			}
		}},
	{name: "url", def: "none",
		doc:  "where the environment is reached (http or https), linked from its GitHub Deployments",
		read: readURL},
	{name: "drift", def: "the server's `drift.interval` (`10m`)",
		doc:  "how often the cluster is compared with the last applied commit (like `30m`), or `off`; `apply: auto` environments heal what drifted",
		read: readDrift},
	{name: "promote", def: "none",
		doc:  "what `/promote` copies into this environment: `{from: ENV, images: true, files: [PATH...], values: [KEY...]}` — `images` copies the Kustomize `images:` entries of `from`'s deployed kustomization, `files` copies those files from `from`'s deployed commit, `values` (Helm environments) copies those value paths, like `[image.tag]`, from what `from` deploys into this environment's last values file",
		read: readPromote},
	{name: "break_glass", def: "admins only",
		doc:  "who besides admins may roll back at once with `/rollback ENV --now` (logins and `team:org/slug`)",
		read: readBreakGlass},
}

// readDrift reads `drift: 30m` or `drift: off`.
func readDrift(p *problems, f entry, at string, s *envState) {
	v, ok := p.str(f.value, at)
	if !ok {
		return
	}
	if v == "off" {
		s.env.DriftOff = true
		return
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		p.add(f.line, "%s: %q is neither a duration (like 10m or 1h) nor off", at, v)
	case d <= 0:
		p.add(f.line, "%s: must be positive (or off)", at)
	}
	s.env.Drift = d
}

// reservedEnvNames are tugboat's own check-run and status names
// (tugboat/config, tugboat/apply/<env>, tugboat/drift/<env>): an
// environment called so would have a check run tugboat/<name> that reads
// as one of them.
var reservedEnvNames = []string{"config", "apply", "drift"}

// environment reads one environment; it also returns the line of each
// after entry, for the cycle check that needs every environment first.
// Key lines are recorded in lines.
func (p *problems) environment(e entry, lines map[string]int) (Environment, map[string]int) {
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
	s := &envState{env: &env, afterLines: map[string]int{}}
	if errs := validation.IsDNS1123Label(e.key); len(errs) > 0 {
		p.add(e.line, "%s: environment name %q is not a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters, starting and ending with a letter or digit); it names check runs, Leases and ApplySets", where, e.key)
	}
	if contains(reservedEnvNames, e.key) {
		p.add(e.line, "%s: environment name %q is reserved: tugboat's own check runs and statuses use it (tugboat/config, tugboat/apply/…, tugboat/drift/…)", where, e.key)
	}
	if e.value.Kind != yaml.MappingNode {
		p.add(e.line, "%s: want a mapping of settings, got %s", where, kindName(e.value))
		return env, s.afterLines
	}
	readKeys(p, e.value, where, e.line, envKeys, s, lines)
	p.checkSource(env, where, e.line, lines)
	if env.Path == "" && env.Helm == nil && lines[join(where, "path")] != 0 && !s.pathRead {
		p.add(lines[join(where, "path")], "%s.path: must not be empty (use . for the repository root)", where)
	}
	for k, l := range s.promoteLines {
		lines[k] = l
	}
	return env, s.afterLines
}

// shortDuration formats d as a user writes it: 5m rather than 5m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// repoPaths reads f as a list of repository-relative paths, each cleaned;
// a path that is not one is a problem at its own line and left out.
func (p *problems) repoPaths(f entry, at string) []string {
	list, ok := p.strList(f.value, at)
	if !ok {
		return nil
	}
	var out []string
	for i, v := range list {
		clean, err := cleanRepoPath(v)
		if err != nil {
			p.add(f.value.Content[i].Line, "%s[%d]: %v", at, i, err)
			continue
		}
		out = append(out, clean)
	}
	return out
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
