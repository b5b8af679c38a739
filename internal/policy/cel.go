// Package policy compiles and evaluates the CEL expressions of tugboat's
// policies with the Kubernetes CEL environment, so an expression means in a
// .tugboat.yaml what it means in a ValidatingAdmissionPolicy: the same
// libraries (lists, regex, URLs, quantities, IPs, CIDRs, semver...), the
// same variables (object, oldObject) and the same per-call cost limit.
//
// It is its own package because both config (compile errors at the
// policy's line) and planner (evaluation per object) need it, and neither
// may import the other's internals.
package policy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/cel/environment"
)

// MaxExpressionBytes caps one expression's length, as the API server caps
// a VAP's (5 KiB): the file is hostile input.
const MaxExpressionBytes = 5 << 10

// Program is one compiled validation expression.
type Program struct {
	prg cel.Program
}

// env is the Kubernetes base environment (the version this module was
// built against) with a VAP's object variables. Built once per Compile:
// MustBaseEnvSet caches the expensive part.
func env() (*cel.Env, error) {
	base := environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion())
	set, err := base.Extend(environment.VersionedOptions{
		IntroducedVersion: environment.DefaultCompatibilityVersion(),
		EnvOptions: []cel.EnvOption{
			cel.Variable("object", cel.DynType),
			cel.Variable("oldObject", cel.DynType),
		},
	})
	if err != nil {
		return nil, err
	}
	return set.Env(environment.NewExpressions)
}

// Compile parses and type-checks expr, which must evaluate to a bool. The
// error is CEL's own report (with the column), for a problem at the
// expression's line.
func Compile(expr string) (*Program, error) {
	if len(expr) > MaxExpressionBytes {
		return nil, fmt.Errorf("expression is %d bytes, over the %d limit", len(expr), MaxExpressionBytes)
	}
	if strings.TrimSpace(expr) == "" {
		return nil, errors.New("expression is empty")
	}
	e, err := env()
	if err != nil {
		return nil, fmt.Errorf("load CEL environment: %w", err)
	}
	ast, issues := e.Compile(expr)
	if issues != nil && issues.Err() != nil {
		return nil, fmt.Errorf("does not compile: %s", strings.TrimSpace(issues.Err().Error()))
	}
	if t := ast.OutputType(); !t.IsExactType(cel.BoolType) && !t.IsExactType(cel.DynType) {
		return nil, fmt.Errorf("must evaluate to a bool, not %s", t)
	}
	prg, err := e.Program(ast, cel.InterruptCheckFrequency(celconfig.CheckFrequency))
	if err != nil {
		return nil, fmt.Errorf("instantiate program: %w", err)
	}
	return &Program{prg: prg}, nil
}

// Eval evaluates the expression on object and, for an update, the live
// oldObject (nil for a create, as in admission). An expression that runs
// over the cost limit, is interrupted by ctx, or does not yield a bool is
// an error; callers report it as the policy failing, never as a pass.
func (p *Program) Eval(ctx context.Context, object, oldObject map[string]any) (bool, error) {
	vars := map[string]any{"object": nullable(object), "oldObject": nullable(oldObject)}
	out, _, err := p.prg.ContextEval(ctx, vars)
	if err != nil {
		return false, tidy(err)
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("evaluated to %s, not a bool", out.Type().TypeName())
	}
	return b, nil
}

func nullable(m map[string]any) any {
	if m == nil {
		return types.NullValue
	}
	return m
}

// tidy shortens CEL's runtime errors to what a reader acts on.
func tidy(err error) error {
	msg := err.Error()
	if strings.Contains(msg, "cost limit exceeded") || strings.Contains(msg, "actual cost limit exceeded") {
		return errors.New("exceeded the cost limit (the same per-call budget as a ValidatingAdmissionPolicy): simplify the expression")
	}
	if strings.Contains(msg, "operation interrupted") {
		return errors.New("interrupted: the plan's time ran out")
	}
	return errors.New(msg)
}
