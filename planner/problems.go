package planner

import "fmt"

// MaxProblems is how many problems a plan (and a render) lists. A file of
// a million broken documents must not make a million problems, thousands
// of comments and annotations: past the first MaxProblems, one last
// problem says how many more there are. Fixing the first ones is what a
// person does next anyway.
const MaxProblems = 200

// capProblems keeps the first MaxProblems of ps and adds one problem
// counting the rest. Such a counting problem already in ps (a render's) is
// folded into the new one, so capping twice counts every problem once.
func capProblems(ps []Problem) []Problem {
	omitted := 0
	kept := ps[:0:0]
	for _, p := range ps {
		if p.omitted > 0 {
			omitted += p.omitted
			continue
		}
		kept = append(kept, p)
	}
	if len(kept) > MaxProblems {
		omitted += len(kept) - MaxProblems
		kept = kept[:MaxProblems]
	}
	if omitted == 0 {
		return ps
	}
	return append(kept, moreProblems(omitted))
}

// moreProblems is the problem standing for n problems not listed.
func moreProblems(n int) Problem {
	noun := "problems"
	if n == 1 {
		noun = "problem"
	}
	return Problem{
		Message: fmt.Sprintf("and %d more %s, not listed: only the first %d are (fix those and push again)", n, noun, MaxProblems),
		omitted: n,
	}
}
