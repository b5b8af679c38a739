package ops

import (
	"container/list"
	"unsafe"

	"github.com/tugboatops/tugboat/planner"
)

// planCache keeps the latest plans, so that `/plan staging` on a commit
// already planned re-plans staging only and still shows every environment
// in the edited comment. It is an optimisation, not state: on a miss (say,
// after a restart) the other environments are simply planned again.
//
// It is bounded by an estimate of the bytes its plans hold, not by their
// number: one plan of 5,000 changed objects holds more than a thousand
// small ones. The least recently used plans go first; a plan larger than
// the whole bound is not kept at all.
type planCache struct {
	maxBytes int64
	bytes    int64
	lru      *list.List // of *cacheEntry, most recently used first
	entries  map[planKey]*list.Element
}

type planKey struct {
	repo        string
	number      int
	head, merge string
	env         string
}

type cacheEntry struct {
	key  planKey
	plan *planner.Plan
	size int64
}

// DefaultPlanCacheBytes bounds the plan cache when Options leave it unset.
const DefaultPlanCacheBytes = 64 << 20

func newPlanCache(maxBytes int64) *planCache {
	return &planCache{maxBytes: maxBytes, lru: list.New(), entries: map[planKey]*list.Element{}}
}

func (c *planCache) get(k planKey) (*planner.Plan, bool) {
	e, ok := c.entries[k]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(e)
	return e.Value.(*cacheEntry).plan, true
}

func (c *planCache) put(k planKey, p *planner.Plan) {
	if e, ok := c.entries[k]; ok {
		c.remove(e)
	}
	size := planBytes(k, p)
	if size > c.maxBytes {
		return
	}
	c.entries[k] = c.lru.PushFront(&cacheEntry{key: k, plan: p, size: size})
	c.bytes += size
	for c.bytes > c.maxBytes {
		c.remove(c.lru.Back())
	}
}

func (c *planCache) remove(e *list.Element) {
	ce := c.lru.Remove(e).(*cacheEntry)
	delete(c.entries, ce.key)
	c.bytes -= ce.size
}

// planBytes estimates what keeping p costs: its strings (diffs above all)
// and the fixed size of its changes and problems. Strings a plan shares
// with others are counted for each, which errs on the safe side.
func planBytes(k planKey, p *planner.Plan) int64 {
	const entryOverhead = 256 // list element, map slot, entry
	n := int64(entryOverhead) + int64(len(k.repo)+len(k.head)+len(k.merge)+len(k.env))
	n += int64(unsafe.Sizeof(*p)) + int64(len(p.Env)+len(p.Cluster)+len(p.Commit)+len(p.Digest))
	for i := range p.Changes {
		ch := &p.Changes[i]
		r := &ch.Ref
		n += int64(unsafe.Sizeof(*ch)) + int64(len(ch.Diff)+len(ch.Source.File)+len(ch.Danger)+
			len(r.Group)+len(r.Version)+len(r.Kind)+len(r.Namespace)+len(r.Name))
	}
	for i := range p.Problems {
		pr := &p.Problems[i]
		n += int64(unsafe.Sizeof(*pr)) + int64(len(pr.Source.File)+len(pr.Object)+len(pr.Message))
	}
	return n
}
