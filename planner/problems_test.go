package planner

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

// xDocuments is a file of n documents that are not objects.
func xDocuments(n int) []byte {
	return []byte(strings.Repeat("---\nx\n", n))
}

// TestRenderManyNonObjectDocuments: a file of 100,000 "x" documents counts
// toward the object limit and stops the render with one problem, plus at
// most MaxProblems others, instead of making 100,000 problems. The render
// child's time limit is the "fast" bound: a render that ran past it would
// be reported as killed instead.
func TestRenderManyNonObjectDocuments(t *testing.T) {
	repo := fstest.MapFS{"d/x.yaml": {Data: xDocuments(100_000)}}
	lim := DefaultLimits()
	objs, probs, _ := renderChild(t, repo, "d", lim)
	if len(objs) != 0 || len(probs) > MaxProblems+1 {
		t.Fatalf("%d objects, %d problems; want none and at most %d", len(objs), len(probs), MaxProblems+1)
	}
	if !strings.HasPrefix(probs[0].Message, fmt.Sprintf("render produced more than %d objects", lim.MaxObjects)) {
		t.Errorf("first problem = %q, want the object limit", probs[0].Message)
	}
	last := probs[len(probs)-1]
	if want := fmt.Sprintf("and %d more problems, not listed", lim.MaxObjects+1-(MaxProblems-1)); !strings.HasPrefix(last.Message, want) {
		t.Errorf("last problem = %q, want %q…", last.Message, want)
	}
	if inProc, probsIn := RenderInProcess(repo, "d", lim); len(inProc) != 0 || len(probsIn) != len(probs) {
		t.Errorf("in process: %d objects, %d problems; the child gave %d", len(inProc), len(probsIn), len(probs))
	}
}

// TestRenderProblemsCapped: under the object limit, 500 broken documents
// are listed as the first MaxProblems and one that counts the rest.
func TestRenderProblemsCapped(t *testing.T) {
	objs, probs, _ := renderChild(t, fstest.MapFS{"d/x.yaml": {Data: xDocuments(500)}}, "d", DefaultLimits())
	if len(objs) != 0 || len(probs) != MaxProblems+1 {
		t.Fatalf("%d objects, %d problems; want none and %d", len(objs), len(probs), MaxProblems+1)
	}
	if probs[0].Source != (Location{File: "d/x.yaml", Line: 2}) || !strings.Contains(probs[0].Message, "not a Kubernetes object") {
		t.Errorf("first problem = %+v", probs[0])
	}
	if !strings.HasPrefix(probs[MaxProblems].Message, "and 300 more problems, not listed") {
		t.Errorf("last problem = %q", probs[MaxProblems].Message)
	}
}

func TestCapProblems(t *testing.T) {
	many := func(n int, file string) []Problem {
		out := make([]Problem, n)
		for i := range out {
			out[i] = Problem{Source: Location{File: file, Line: i + 1}, Message: "bad"}
		}
		return out
	}
	if got := capProblems(many(MaxProblems, "a")); len(got) != MaxProblems || got[MaxProblems-1].omitted != 0 {
		t.Errorf("exactly MaxProblems problems were changed: %d", len(got))
	}
	once := capProblems(many(250, "a"))
	if len(once) != MaxProblems+1 || once[MaxProblems].omitted != 50 || !strings.HasPrefix(once[MaxProblems].Message, "and 50 more problems") {
		t.Fatalf("capped once: %d problems, last %+v", len(once), once[len(once)-1])
	}
	// A capped render's problems, plus the plan's own, capped again: every
	// problem is counted once, by one last problem.
	twice := capProblems(append(append([]Problem{}, once...), many(30, "b")...))
	if len(twice) != MaxProblems+1 || twice[MaxProblems].omitted != 80 || !strings.HasPrefix(twice[MaxProblems].Message, "and 80 more problems") {
		t.Errorf("capped twice: %d problems, last %+v", len(twice), twice[len(twice)-1])
	}
	if one := capProblems(many(MaxProblems+1, "a")); !strings.HasPrefix(one[MaxProblems].Message, "and 1 more problem, not listed") {
		t.Errorf("one more: %q", one[MaxProblems].Message)
	}
}

// TestPlanProblemsCapped: a plan lists at most MaxProblems problems and one
// that counts the rest, whatever made them: here 150 from the render and
// 100 from the dry-run (a kind the cluster does not serve).
func TestPlanProblemsCapped(t *testing.T) {
	f := newFixture(t, cluster)
	var unserved strings.Builder
	for i := range 100 {
		fmt.Fprintf(&unserved, "---\napiVersion: example.com/v1\nkind: Unserved\nmetadata: {name: u%d, namespace: {{NS}}}\n", i)
	}
	p := f.plan(f.env(), f.files("deploy/x.yaml", string(xDocuments(150)), "deploy/y.yaml", unserved.String()), nil)
	if len(p.Problems) != MaxProblems+1 {
		t.Fatalf("%d problems, want %d", len(p.Problems), MaxProblems+1)
	}
	if last := p.Problems[MaxProblems]; !strings.HasPrefix(last.Message, "and 50 more problems, not listed") {
		t.Errorf("last problem = %+v", last)
	}
	if p.Problems[0].Source.File != "deploy/x.yaml" || p.Problems[MaxProblems-1].Source.File != "deploy/y.yaml" {
		t.Errorf("the first problems are not the first in file order: %+v … %+v", p.Problems[0], p.Problems[MaxProblems-1])
	}
}
