package ops

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tugboatops/tugboat/planner"
)

// bigPlan is a plan of n changes, each with a diff of diffBytes.
func bigPlan(env string, n, diffBytes int) *planner.Plan {
	p := &planner.Plan{Env: env, Digest: "sha256:" + env}
	for i := range n {
		p.Changes = append(p.Changes, planner.Change{
			Ref:    planner.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "apps", Name: fmt.Sprintf("cm-%d", i)},
			Action: planner.ActionUpdate,
			Diff:   strings.Repeat("x", diffBytes),
		})
	}
	return p
}

func TestPlanCacheEvictsByBytes(t *testing.T) {
	c := newPlanCache(10 << 20)
	// Three plans of ~4 MiB each: the third pushes the first out.
	for _, env := range []string{"a", "b", "c"} {
		c.put(planKey{env: env}, bigPlan(env, 1000, 4<<10))
	}
	if _, ok := c.get(planKey{env: "a"}); ok {
		t.Error("12 MiB of plans kept under a 10 MiB bound")
	}
	for _, env := range []string{"b", "c"} {
		if p, ok := c.get(planKey{env: env}); !ok || p.Env != env {
			t.Errorf("plan %s evicted, want it kept", env)
		}
	}
	if c.bytes > c.maxBytes || c.bytes < 8<<20 {
		t.Errorf("cache holds an estimated %d bytes, want 8–10 MiB", c.bytes)
	}
	// Small plans are many: a thousand fit where three big ones did not.
	small := newPlanCache(10 << 20)
	for i := range 1000 {
		small.put(planKey{number: i, env: "staging"}, bigPlan("staging", 3, 200))
	}
	if len(small.entries) != 1000 {
		t.Errorf("%d of 1000 small plans kept, want all", len(small.entries))
	}
}

func TestPlanCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := newPlanCache(10 << 20)
	c.put(planKey{env: "a"}, bigPlan("a", 1000, 4<<10))
	c.put(planKey{env: "b"}, bigPlan("b", 1000, 4<<10))
	c.get(planKey{env: "a"}) // a is now the most recent
	c.put(planKey{env: "c"}, bigPlan("c", 1000, 4<<10))
	if _, ok := c.get(planKey{env: "b"}); ok {
		t.Error("b, the least recently used, was kept")
	}
	if _, ok := c.get(planKey{env: "a"}); !ok {
		t.Error("a, used since b, was evicted")
	}
	// Replacing an entry counts its new size only.
	c.put(planKey{env: "a"}, bigPlan("a2", 1, 10))
	if p, _ := c.get(planKey{env: "a"}); p.Env != "a2" || len(c.entries) != 2 || c.lru.Len() != 2 {
		t.Errorf("after replacing a: %v, %d entries", p, len(c.entries))
	}
	if c.bytes > 5<<20 {
		t.Errorf("after replacing a 4 MiB plan with a tiny one the cache holds %d bytes", c.bytes)
	}
	// A plan bigger than the whole bound is not kept, and evicts nothing.
	c.put(planKey{env: "huge"}, bigPlan("huge", 3000, 4<<10))
	if _, ok := c.get(planKey{env: "huge"}); ok {
		t.Error("a plan larger than the bound was kept")
	}
	if _, ok := c.get(planKey{env: "c"}); !ok {
		t.Error("an oversized plan evicted c")
	}
}
