package planner

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// PlanForApply is Plan for the applier: besides the plan it returns, for
// every create, update and adopt, the object exactly as the plan's dry-run sent
// it (PrepareForApply of the validated render: ApplySet labels added,
// ignored fields and a manifest's last-applied annotation removed), so the apply writes what
// reviewers saw. A plan with problems comes with no objects: it is not
// applied.
func (p *Planner) PlanForApply(ctx context.Context, in Input) (*Plan, map[ObjectRef]*unstructured.Unstructured, error) {
	plan, sent, err := p.plan(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	if len(plan.Problems) > 0 {
		return plan, nil, nil
	}
	return plan, sent, nil
}
