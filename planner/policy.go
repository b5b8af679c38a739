package planner

import (
	"context"
	"fmt"

	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/internal/policy"
)

// policySet is an environment's policies, compiled once per plan.
type policySet struct {
	rules []compiledPolicy
}

type compiledPolicy struct {
	config.Policy
	progs []*policy.Program // one per validation, nil where it did not compile
}

// compilePolicies compiles ps. A validation that does not compile (the
// config check reports it at its line; a plan made from a config that
// skipped that check must still not pass it) is a problem at its line, and
// the policy then fails closed: it is reported on every object it matches.
func compilePolicies(ps []config.Policy) (*policySet, []Problem) {
	if len(ps) == 0 {
		return nil, nil
	}
	s := &policySet{}
	var problems []Problem
	for _, p := range ps {
		cp := compiledPolicy{Policy: p, progs: make([]*policy.Program, len(p.Validations))}
		for i, v := range p.Validations {
			prog, err := policy.Compile(v.Expression)
			if err != nil {
				problems = append(problems, Problem{Source: Location{File: p.File, Line: v.Line},
					Message: fmt.Sprintf("policy %s: expression %v", p.Name, err)})
				continue
			}
			cp.progs[i] = prog
		}
		s.rules = append(s.rules, cp)
	}
	return s, problems
}

// check evaluates the policies that match t on object (what the API server
// would store, or the rendered object when it cannot be dry-run yet) and
// oldObject (the live object; nil for a create), as a
// ValidatingAdmissionPolicy would. Violations of deny policies are
// problems, of warn policies warnings, both at the object's file and line.
// An expression that cannot be evaluated (cost limit, a type error) counts
// as violated: a policy fails closed, like a VAP's default failurePolicy.
func (s *policySet) check(ctx context.Context, t *target, object, oldObject map[string]any, redact func(string) string) (deny, warn []Problem) {
	if s == nil {
		return nil, nil
	}
	gvk := t.obj.Obj.GroupVersionKind()
	for _, r := range s.rules {
		if !r.Matches(gvk.Group, gvk.Kind, t.ref.Namespace, t.ref.Name) {
			continue
		}
		for i, v := range r.Validations {
			msg := ""
			switch prog := r.progs[i]; {
			case prog == nil:
				msg = fmt.Sprintf("policy %s: its expression at %s:%d does not compile, so the object cannot pass it", r.Name, r.File, v.Line)
			default:
				ok, err := prog.Eval(ctx, object, oldObject)
				if err != nil {
					msg = fmt.Sprintf("policy %s: expression at %s:%d %v", r.Name, r.File, v.Line, err)
				} else if !ok {
					msg = fmt.Sprintf("policy %s: %s", r.Name, v.Message)
				}
			}
			if msg == "" {
				continue
			}
			p := Problem{Source: t.obj.Source, Object: t.ref.String(), Message: redact(msg)}
			if r.Action == config.PolicyWarn {
				warn = append(warn, p)
			} else {
				deny = append(deny, p)
			}
		}
	}
	return deny, warn
}
