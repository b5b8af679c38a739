package policy

import (
	"context"
	"strings"
	"testing"
	"time"
)

func deployment(limits bool) map[string]any {
	c := map[string]any{"name": "web", "image": "ghcr.io/acme/web:1.2.3"}
	if limits {
		c["resources"] = map[string]any{"limits": map[string]any{"memory": "256Mi", "cpu": int64(1)}}
	}
	return map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "labels": map[string]any{"team": "shop"}},
		"spec": map[string]any{"replicas": int64(3), "template": map[string]any{"spec": map[string]any{
			"containers": []any{c},
		}}},
	}
}

// TestEvalLikeAVAP: expressions use a VAP's variables and Kubernetes
// libraries (quantity, regex, lists), and oldObject is null on a create.
func TestEvalLikeAVAP(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		expr     string
		obj, old map[string]any
		want     bool
	}{
		{"object.spec.template.spec.containers.all(c, has(c.resources) && has(c.resources.limits))", deployment(true), nil, true},
		{"object.spec.template.spec.containers.all(c, has(c.resources) && has(c.resources.limits))", deployment(false), nil, false},
		{"object.spec.template.spec.containers.all(c, !c.image.endsWith(':latest'))", deployment(false), nil, true},
		{"quantity(object.spec.template.spec.containers[0].resources.limits.memory).isLessThan(quantity('1Gi'))", deployment(true), nil, true},
		{"object.spec.template.spec.containers[0].image.matches('^ghcr\\\\.io/')", deployment(true), nil, true},
		{"oldObject == null", deployment(true), nil, true},
		{"oldObject == null || object.spec.replicas >= oldObject.spec.replicas", deployment(true), deployment(false), true},
		{"'team' in object.metadata.labels", deployment(true), nil, true},
		{"[1, 2, 3].isSorted()", deployment(true), nil, true},
	}
	for _, c := range cases {
		p, err := Compile(c.expr)
		if err != nil {
			t.Fatalf("%s: %v", c.expr, err)
		}
		got, err := p.Eval(ctx, c.obj, c.old)
		if err != nil {
			t.Fatalf("%s: %v", c.expr, err)
		}
		if got != c.want {
			t.Errorf("%s = %v, want %v", c.expr, got, c.want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	for expr, want := range map[string]string{
		"object.spec.replicas >":   "does not compile",
		"object.spec.replicas + 1": "must evaluate to a bool, not int",
		"object.spec.replicas":     "", // dyn: allowed at compile time, refused at eval
		"'a'":                      "must evaluate to a bool, not string",
		"   ":                      "expression is empty",
		strings.Repeat("a", 6000):  "over the 5120 limit",
		"unknownVar.x == 1":        "undeclared reference",
	} {
		_, err := Compile(expr)
		switch {
		case want == "" && err != nil:
			t.Errorf("%.30q: %v", expr, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%.30q: error %v, want it to contain %q", expr, err, want)
		}
	}
	p, err := Compile("object.spec.replicas")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Eval(context.Background(), deployment(true), nil); err == nil || !strings.Contains(err.Error(), "not a bool") {
		t.Errorf("non-bool result: error %v", err)
	}
}

// TestCostLimit: a hostile expression is stopped by the cost limit
// quickly, as an error (never a pass).
func TestCostLimit(t *testing.T) {
	expr := "[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, [1,2,3,4,5,6,7,8,9,10].all(e, [1,2,3,4,5,6,7,8,9,10].all(f, a+b+c+d+e+f > 0))))))"
	p, err := Compile(expr)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ok, err := p.Eval(context.Background(), deployment(true), nil)
	if err == nil || ok {
		t.Fatalf("hostile expression = %v, %v; want a cost error", ok, err)
	}
	if !strings.Contains(err.Error(), "cost limit") {
		t.Errorf("error %q does not name the cost limit", err)
	}
	// The limit is in cost units (about 0.1 s of CPU on an idle core);
	// the bound is loose because test machines are shared and loaded.
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("took %v", d)
	}
}
