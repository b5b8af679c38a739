package planner

import (
	"context"
	"io/fs"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/kube"
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
// ignored fields and a last-applied annotation removed), so the apply writes what
// reviewers saw, and the plan's Redactor. The head render is captured on its
// way into the plan rather than rendered a second time.
//
// Owned by the applier (issue 5); the engine could hand these objects over
// directly, which would make this wrapper unnecessary.
func (p *Planner) PlanForApply(ctx context.Context, in Input) (*ApplyPlan, error) {
	capture := &capturingRenderer{inner: p.Renderer}
	pp := *p
	pp.Renderer = capture
	headIn := in
	headIn.Repo = headRepo{in.Repo}
	plan, red, err := pp.plan(ctx, headIn)
	if err != nil {
		return nil, err
	}
	out := &ApplyPlan{Plan: plan, Redactor: red}
	head := capture.objects()
	if head == nil || len(plan.Problems) > 0 {
		return out, nil
	}
	cluster, err := p.Clusters.Cluster(in.Env.Cluster)
	if err != nil {
		return nil, err
	}
	valid, _ := Validate(head, in.Env, cluster)
	labels := kube.ApplySet{Repo: in.RepoName, Env: in.Env.Name}.MemberLabels()
	actions := make(map[objectKey]Action, len(plan.Changes))
	for _, ch := range plan.Changes {
		actions[keyOf(ch.Ref)] = ch.Action
	}
	out.Objects = make(map[ObjectRef]*unstructured.Unstructured, len(valid))
	for _, o := range valid {
		ref := refOf(o.Obj)
		act := actions[keyOf(ref)]
		if act != ActionCreate && act != ActionUpdate && act != ActionAdopt {
			continue
		}
		out.Objects[ref] = PrepareForApply(o.Obj, labels, ignorePathsFor(in.Env.Ignore, ref))
	}
	return out, nil
}

// headRepo marks the head tree, so the capturing renderer can tell it from
// the base tree (fs.FS values cannot be compared: some are maps).
type headRepo struct{ fs.FS }

// capturingRenderer keeps a copy of the head render.
type capturingRenderer struct {
	inner ManifestRenderer
	mu    sync.Mutex
	head  []Object
	got   bool
}

func (c *capturingRenderer) Render(ctx context.Context, repo fs.FS, env config.Environment) ([]Object, []Problem, error) {
	h, isHead := repo.(headRepo)
	if isHead {
		repo = h.FS
	}
	objs, probs, err := c.inner.Render(ctx, repo, env)
	if isHead && err == nil {
		c.mu.Lock()
		c.head = make([]Object, len(objs))
		for i, o := range objs {
			c.head[i] = Object{Obj: o.Obj.DeepCopy(), Source: o.Source}
		}
		c.got = true
		c.mu.Unlock()
	}
	return objs, probs, err
}

func (c *capturingRenderer) objects() []Object {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.got {
		return nil
	}
	return c.head
}
