package config

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"sort"

	yaml "go.yaml.in/yaml/v3"

	"github.com/tugboatops/tugboat/internal/policy"
)

// Policy is one entry of policies: CEL validations every object of an
// environment must pass, shaped like a ValidatingAdmissionPolicy so that
// people reuse what they know.
type Policy struct {
	Name        string
	Match       []PolicyMatch // empty: every object
	Validations []Validation
	Action      PolicyAction
	// File and Line locate the policy (its name key), for problems about
	// the policy itself.
	File string
	Line int
}

// PolicyMatch selects objects. Every field set must match; an unset
// field matches anything.
type PolicyMatch struct {
	// Group is the API group ("" is the core group); nil matches any group.
	Group      *string
	Kinds      []string
	Namespaces []string
	Names      []string
}

// Validation is one CEL expression a matched object must satisfy.
type Validation struct {
	Expression string
	// Message is shown when the expression is false.
	Message string
	// Line is the expression's line in File.
	Line int
}

// PolicyAction is what a violation does.
type PolicyAction string

// The policy actions.
const (
	// PolicyDeny makes a violation a problem: the environment cannot be
	// applied.
	PolicyDeny PolicyAction = "deny"
	// PolicyWarn shows a violation without failing the check.
	PolicyWarn PolicyAction = "warn"
)

// Matches reports whether the object with this group, kind, namespace and
// name is one the policy applies to.
func (p Policy) Matches(group, kind, namespace, name string) bool {
	if len(p.Match) == 0 {
		return true
	}
	for _, m := range p.Match {
		if (m.Group == nil || *m.Group == group) && anyOf(m.Kinds, kind) &&
			anyOf(m.Namespaces, namespace) && anyOf(m.Names, name) {
			return true
		}
	}
	return false
}

func anyOf(list []string, v string) bool {
	if len(list) == 0 {
		return true
	}
	for _, s := range list {
		if s == v || s == "*" {
			return true
		}
	}
	return false
}

// maxPolicies caps a file's policies and each policy's validations: the
// file comes from a repository, and each expression costs its evaluation
// on every object.
const (
	maxPolicies    = 100
	maxValidations = 20
)

var policyName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)

// policyState is what reading one policy collects.
type policyState struct {
	pol *Policy
}

var policyKeys = []key[*policyState]{
	{name: "name", required: true, doc: "the policy's name, shown with each violation",
		read: func(p *problems, f entry, at string, s *policyState) {
			if v, ok := p.str(f.value, at); ok {
				if !policyName.MatchString(v) || len(v) > 63 {
					p.add(f.value.Line, "%s: %q is not a valid name (lower-case letters, digits, '-' and '.', at most 63)", at, v)
				}
				s.pol.Name = v
			}
		}},
	{name: "match", def: "every object", doc: "list of `{group, kinds, namespaces, names}`: the objects the policy applies to (each field optional; an object matches when an entry matches)",
		read: func(p *problems, f entry, at string, s *policyState) {
			s.pol.Match = p.policyMatches(f.value, at)
		}},
	{name: "validations", required: true, doc: "list of `{expression, message}`: CEL expressions over `object` (and `oldObject` on updates) that must be true",
		read: func(p *problems, f entry, at string, s *policyState) {
			s.pol.Validations = p.validations(f.value, at)
		}},
	{name: "action", def: "`deny`", doc: "`deny` (a violation is a problem and fails the check) or `warn` (shown, does not fail)",
		read: func(p *problems, f entry, at string, s *policyState) {
			if v, ok := p.str(f.value, at); ok {
				switch PolicyAction(v) {
				case PolicyDeny, PolicyWarn:
					s.pol.Action = PolicyAction(v)
				default:
					p.add(f.value.Line, "%s: %q is not an action (want deny or warn)", at, v)
				}
			}
		}},
}

// policies reads a list of policies.
func (p *problems) policies(n *yaml.Node, where string) []Policy {
	if n.Kind != yaml.SequenceNode {
		p.add(n.Line, "%s: want a list of policies, got %s", where, kindName(n))
		return nil
	}
	if len(n.Content) > maxPolicies {
		p.add(n.Line, "%s: %d policies, over the limit of %d", where, len(n.Content), maxPolicies)
		return nil
	}
	var out []Policy
	seen := map[string]int{}
	for i, item := range n.Content {
		at := fmt.Sprintf("%s[%d]", where, i)
		item = resolveAlias(item)
		if item.Kind != yaml.MappingNode {
			p.add(item.Line, "%s: want a mapping with name and validations, got %s", at, kindName(item))
			continue
		}
		pol := &Policy{Action: PolicyDeny, File: p.file, Line: item.Line}
		lines := map[string]int{}
		readKeys(p, item, at, item.Line, policyKeys, &policyState{pol: pol}, lines)
		if l := lines[join(at, "name")]; l > 0 {
			pol.Line = l
		}
		if pol.Name != "" {
			if first, dup := seen[pol.Name]; dup {
				p.add(pol.Line, "%s: policy %q is already defined at line %d", at, pol.Name, first)
			}
			seen[pol.Name] = pol.Line
		}
		out = append(out, *pol)
	}
	return out
}

var matchKeys = []string{"group", "kinds", "namespaces", "names"}

func (p *problems) policyMatches(n *yaml.Node, where string) []PolicyMatch {
	if n.Kind != yaml.SequenceNode {
		p.add(n.Line, "%s: want a list of {group, kinds, namespaces, names}, got %s", where, kindName(n))
		return nil
	}
	var out []PolicyMatch
	for i, item := range n.Content {
		at := fmt.Sprintf("%s[%d]", where, i)
		item = resolveAlias(item)
		if item.Kind != yaml.MappingNode {
			p.add(item.Line, "%s: want a mapping of group, kinds, namespaces and names, got %s", at, kindName(item))
			continue
		}
		var m PolicyMatch
		for _, f := range p.mappingEntries(item, at) {
			fat := join(at, f.key)
			switch f.key {
			case "group":
				if g, ok := p.str(f.value, fat); ok {
					m.Group = &g
				}
			case "kinds":
				m.Kinds, _ = p.strList(f.value, fat)
			case "namespaces":
				m.Namespaces, _ = p.strList(f.value, fat)
			case "names":
				m.Names, _ = p.strList(f.value, fat)
			default:
				p.add(f.line, "%s: unknown key %q (want %s)", at, f.key, orList(matchKeys))
			}
		}
		out = append(out, m)
	}
	return out
}

func (p *problems) validations(n *yaml.Node, where string) []Validation {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.add(n.Line, "%s: want a non-empty list of {expression, message}, got %s", where, kindName(n))
		return nil
	}
	if len(n.Content) > maxValidations {
		p.add(n.Line, "%s: %d validations, over the limit of %d", where, len(n.Content), maxValidations)
		return nil
	}
	var out []Validation
	for i, item := range n.Content {
		at := fmt.Sprintf("%s[%d]", where, i)
		item = resolveAlias(item)
		if item.Kind != yaml.MappingNode {
			p.add(item.Line, "%s: want a mapping with expression and message, got %s", at, kindName(item))
			continue
		}
		v := Validation{Line: item.Line}
		for _, f := range p.mappingEntries(item, at) {
			fat := join(at, f.key)
			switch f.key {
			case "expression":
				if s, ok := p.str(f.value, fat); ok {
					v.Expression, v.Line = s, f.value.Line
					if _, err := policy.Compile(s); err != nil {
						p.add(f.value.Line, "%s: %v", fat, err)
					}
				}
			case "message":
				v.Message, _ = p.str(f.value, fat)
			default:
				p.add(f.line, "%s: unknown key %q (want expression or message)", at, f.key)
			}
		}
		if v.Expression == "" {
			p.add(item.Line, "%s: expression: missing", at)
		}
		if v.Message == "" {
			// As a VAP says when a validation has no message.
			v.Message = "failed expression: " + v.Expression
		}
		out = append(out, v)
	}
	return out
}

// MaxPolicyFileBytes caps a shared policy file, as MaxRepoFileBytes does
// .tugboat.yaml.
const MaxPolicyFileBytes = MaxRepoFileBytes

// ParsePolicies parses a shared policy file (policies_from): a document
// whose one key is policies, in .tugboat.yaml's format. file names it in
// problems. On invalid input the error is an Errors of every problem.
func ParsePolicies(ctx context.Context, data []byte, file string) ([]Policy, error) {
	if len(data) > MaxPolicyFileBytes {
		return nil, Errors{{File: file, Message: fmt.Sprintf("file is %s, over the %s limit: tugboat does not read it",
			mebibytes(len(data)), mebibytes(MaxPolicyFileBytes))}}
	}
	p := &problems{ctx: ctx, file: file}
	var out []Policy
	if root := p.parseDocument(data); root != nil {
		seen := false
		for _, f := range p.mappingEntries(root, "") {
			if f.key != "policies" {
				p.add(f.line, "unknown key %q (a policy file holds only policies)", f.key)
				continue
			}
			seen = true
			out = p.policies(f.value, "policies")
		}
		if !seen {
			p.add(root.Line, "policies: missing")
		}
	}
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool { return p.errs[i].Line < p.errs[j].Line })
		return nil, p.errs
	}
	return out, nil
}

// AddPolicies adds policies read from the shared file to the config and to
// every environment, after the file's own.
func (c *RepoConfig) AddPolicies(ps []Policy) {
	c.Policies = append(c.Policies, ps...)
	for i := range c.Environments {
		c.Environments[i].Policies = c.Policies
	}
}

// checkPoliciesFrom validates a policies_from path: repository-relative,
// inside the repository.
func checkPoliciesFrom(v string) (string, error) {
	clean := path.Clean(v)
	if path.IsAbs(v) || clean == ".." || len(clean) > 2 && clean[:3] == "../" || clean == "." {
		return "", fmt.Errorf("%q is not a file inside the repository (want a relative path like .tugboat/policies.yaml)", v)
	}
	return clean, nil
}

// ReadSharedPolicies reads the PoliciesFrom file with read (from the same
// commit as the configuration) and adds its policies. A missing or invalid
// file is an Errors: a policy gate that silently vanished would pass
// everything. read's own errors (the file could not be fetched) are
// returned wrapped, as they are not the file's fault.
func (c *RepoConfig) ReadSharedPolicies(ctx context.Context, read func(ctx context.Context, path string) ([]byte, bool, error)) error {
	if c.PoliciesFrom == "" {
		return nil
	}
	data, found, err := read(ctx, c.PoliciesFrom)
	if err != nil {
		return fmt.Errorf("read %s: %w", c.PoliciesFrom, err)
	}
	if !found {
		return Errors{{File: c.File, Line: c.KeyLine("policies_from"),
			Message: fmt.Sprintf("policies_from: %s does not exist in this commit", c.PoliciesFrom)}}
	}
	ps, err := ParsePolicies(ctx, data, c.PoliciesFrom)
	if err != nil {
		return err
	}
	c.AddPolicies(ps)
	return nil
}
