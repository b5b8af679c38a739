package ops

import "github.com/tugboatops/tugboat/planner"

// planCache keeps the latest plans, so that `/plan staging` on a commit
// already planned re-plans staging only and still shows every environment
// in the edited comment. It is an optimisation, not state: on a miss (say,
// after a restart) the other environments are simply planned again.
type planCache struct {
	max   int
	order []planKey
	plans map[planKey]*planner.Plan
}

type planKey struct {
	repo        string
	number      int
	head, merge string
	env         string
}

func newPlanCache(max int) *planCache {
	return &planCache{max: max, plans: map[planKey]*planner.Plan{}}
}

func (c *planCache) get(k planKey) (*planner.Plan, bool) {
	p, ok := c.plans[k]
	return p, ok
}

func (c *planCache) put(k planKey, p *planner.Plan) {
	if _, ok := c.plans[k]; !ok {
		c.order = append(c.order, k)
	}
	c.plans[k] = p
	for len(c.order) > c.max {
		delete(c.plans, c.order[0])
		c.order = c.order[1:]
	}
}
