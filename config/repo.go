package config

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
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
	// File is the name ParseRepo was given, for problems found later
	// (CheckClusters).
	File    string
	Version int
	// Environments are sorted by name, so every listing (check runs,
	// comments) has the same order whatever the file's order.
	Environments []Environment
	// Automerge has the bot merge a pull request (or add it to the merge
	// queue) once every on-comment environment with changes is applied and
	// converged and the pull request is mergeable.
	Automerge bool
	// Policies are checked on every object of every environment (also
	// found on each Environment), the file's own first, then those of
	// PoliciesFrom once the caller has read it (AddPolicies).
	Policies []Policy
	// PoliciesFrom is a repository-relative file of shared policies; the
	// caller reads it from the same commit as this file (ParsePolicies).
	PoliciesFrom string

	// lines is the line of every key read, by dotted path
	// ("environments.staging.cluster"). Lines live here rather than in
	// Environment so that two environments with the same settings compare
	// equal wherever they sit in the file.
	lines map[string]int
}

// KeyLine returns the line of the key at the dotted path (like
// "environments", "staging", "cluster"), or 0 when the file has no such key
// or the config was not parsed from a file.
func (c *RepoConfig) KeyLine(path ...string) int {
	return c.lines[strings.Join(path, ".")]
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

// MaxRepoFileBytes is the largest .tugboat.yaml ParseRepo reads. The file
// comes from pull requests, so anyone who can open one chooses its size;
// real ones are a few KiB, and 1 MiB is GitHub's own limit for reading a
// file's contents through the API.
const MaxRepoFileBytes = 1 << 20

// ParseRepo parses and validates a .tugboat.yaml. file names it in errors.
// On invalid input the error is an Errors holding every problem found, in
// line order. A file over MaxRepoFileBytes is refused unread.
func ParseRepo(data []byte, file string) (*RepoConfig, error) {
	return ParseRepoContext(context.Background(), data, file)
}

// ParseRepoContext is ParseRepo for callers with a context: should ctx end
// while a syntax error's line is being searched for, the parser's own
// (less precise) line is reported instead of waiting for the search.
func ParseRepoContext(ctx context.Context, data []byte, file string) (*RepoConfig, error) {
	if len(data) > MaxRepoFileBytes {
		return nil, Errors{{File: file, Message: fmt.Sprintf("file is %s, over the %s limit: tugboat does not read it",
			mebibytes(len(data)), mebibytes(MaxRepoFileBytes))}}
	}
	p := &problems{ctx: ctx, file: file}
	cfg := p.repo(data)
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool { return p.errs[i].Line < p.errs[j].Line })
		return nil, p.errs
	}
	return cfg, nil
}

// repoState is what reading the top level collects.
type repoState struct {
	cfg *RepoConfig
	// envs is the environments mapping, read once every top-level key is.
	envs *yaml.Node
}

// repoKeys are the top-level keys of .tugboat.yaml.
var repoKeys = []key[*repoState]{
	{name: "version", required: true, hint: "want version: 1", doc: "format of the file: `1`",
		read: func(p *problems, f entry, at string, s *repoState) {
			if v, ok := p.integer(f.value, at); ok {
				if v != 1 {
					p.add(f.line, "version: unsupported version %d (want 1)", v)
				}
				s.cfg.Version = v
			}
		}},
	{name: "environments", required: true, doc: "environment name → its settings (below)",
		read: func(p *problems, f entry, at string, s *repoState) {
			if f.value.Kind != yaml.MappingNode {
				p.add(f.line, "environments: want a mapping of environment names to settings, got %s", kindName(f.value))
				return
			}
			s.envs = f.value
		}},
	{name: "automerge", def: "`false`",
		doc: "merge the pull request (or queue it) once every on-comment environment with changes is applied and converged and it is mergeable",
		read: func(p *problems, f entry, at string, s *repoState) {
			if b, ok := p.boolean(f.value, at); ok {
				s.cfg.Automerge = b
			}
		}},
	{name: "policies", def: "none",
		doc: "list of policies (below) checked on every object of every environment, like ValidatingAdmissionPolicies",
		read: func(p *problems, f entry, at string, s *repoState) {
			s.cfg.Policies = p.policies(f.value, at)
		}},
	{name: "policies_from", def: "none",
		doc: "a repository file of shared policies (`policies:` only), read from the same commit as this file",
		read: func(p *problems, f entry, at string, s *repoState) {
			if v, ok := p.str(f.value, at); ok {
				clean, err := checkPoliciesFrom(v)
				if err != nil {
					p.add(f.value.Line, "%s: %v", at, err)
					return
				}
				s.cfg.PoliciesFrom = clean
			}
		}},
}

func (p *problems) repo(data []byte) *RepoConfig {
	root := p.parseDocument(data)
	if root == nil {
		return nil
	}
	cfg := &RepoConfig{File: p.file, lines: map[string]int{}}
	s := &repoState{cfg: cfg}
	readKeys(p, root, "", root.Line, repoKeys, s, cfg.lines)
	if s.envs == nil {
		return cfg
	}
	afterLines := map[string]map[string]int{}
	for _, e := range p.mappingEntries(s.envs, "environments") {
		cfg.lines[join("environments", e.key)] = e.line
		env, lines := p.environment(e, cfg.lines)
		cfg.Environments = append(cfg.Environments, env)
		afterLines[env.Name] = lines
	}
	sort.Slice(cfg.Environments, func(i, j int) bool { return cfg.Environments[i].Name < cfg.Environments[j].Name })
	for i := range cfg.Environments {
		cfg.Environments[i].Policies = cfg.Policies
	}
	p.checkAfter(cfg.Environments, afterLines)
	p.checkPromote(cfg.Environments, cfg.lines)
	return cfg
}

// mebibytes formats a size of at least 1 MiB for messages: "1 MiB", "2.5 MiB".
func mebibytes(n int) string {
	return strings.TrimSuffix(strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64), ".0") + " MiB"
}
