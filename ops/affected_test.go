package ops

import (
	"strings"
	"testing"

	"github.com/tugboatops/tugboat/planner"
)

func TestChangedFilesAndTouches(t *testing.T) {
	base := map[string][]byte{
		"deploy/staging/a.yaml": []byte("a"),
		"deploy/prod/b.yaml":    []byte("b"),
		"gone.txt":              []byte("x"),
	}
	merge := map[string][]byte{
		"deploy/staging/a.yaml":  []byte("a2"),
		"deploy/prod/b.yaml":     []byte("b"),
		"deploy/stagingx/c.yaml": []byte("c"),
	}
	changed := changedFiles(base, merge)
	if got := strings.Join(changed, ","); got != "deploy/staging/a.yaml,deploy/stagingx/c.yaml,gone.txt" {
		t.Errorf("changed = %s", got)
	}
	for dir, want := range map[string]bool{"deploy/staging": true, "deploy/prod": false, "deploy/stagingx": true, "deploy/stag": false, ".": true} {
		if got := touches(changed, dir); got != want {
			t.Errorf("touches(%s) = %v, want %v", dir, got, want)
		}
	}
	if touches(nil, ".") {
		t.Error("no change touches nothing")
	}
}

func TestPlanCacheBounded(t *testing.T) {
	c := newPlanCache(2)
	for i, env := range []string{"a", "b", "c"} {
		c.put(planKey{env: env}, &planner.Plan{Env: env, Digest: string(rune('0' + i))})
	}
	if _, ok := c.get(planKey{env: "a"}); ok {
		t.Error("oldest entry not evicted")
	}
	if p, ok := c.get(planKey{env: "c"}); !ok || p.Env != "c" {
		t.Error("newest entry missing")
	}
	c.put(planKey{env: "b"}, &planner.Plan{Env: "b2"})
	if p, _ := c.get(planKey{env: "b"}); p.Env != "b2" || len(c.order) != 2 {
		t.Errorf("replacing an entry: %v, order %d", p, len(c.order))
	}
}
