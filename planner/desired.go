package planner

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ApplyPlan is a plan as the applier needs it.
type ApplyPlan struct {
	Plan *Plan
	// Objects holds, for every create, update and adopt, the object exactly
	// as the plan's dry-run sent it; nil when the plan has problems.
	Objects map[ObjectRef]*unstructured.Unstructured
	// Redactor knows the values of every Secret the plan touched, rendered
	// and live: everything the applier reports (write errors, progress,
	// the ApplySet parent's record) goes through it, since webhooks with
	// side effects speak first at apply time.
	Redactor *Redactor
}

// PlanForApply is Plan for the applier: besides the plan it returns, for
// every create, update and adopt, the object exactly as the plan's dry-run sent
// it (PrepareForApply of the validated render: ApplySet labels added,
// ignored fields and a manifest's last-applied annotation removed), so the
// apply writes what reviewers saw, and the plan's Redactor. A plan with
// problems comes with no objects: it is not applied.
func (p *Planner) PlanForApply(ctx context.Context, in Input) (*ApplyPlan, error) {
	plan, sent, red, err := p.plan(ctx, in)
	if err != nil {
		return nil, err
	}
	out := &ApplyPlan{Plan: plan, Redactor: red}
	if len(plan.Problems) == 0 {
		out.Objects = sent
	}
	return out, nil
}
