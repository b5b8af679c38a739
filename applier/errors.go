package applier

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tugboatops/tugboat/planner"
)

// ErrPlanChanged means the environment's plan is no longer the one that was
// shown: nothing was applied. errors.As gives the *PlanChangedError with the
// new plan, to be shown in its place.
var ErrPlanChanged = errors.New("the plan changed since it was shown")

// PlanChangedError carries the new plan.
type PlanChangedError struct {
	Shown string // digest of the plan that was shown
	Plan  *planner.Plan
}

func (e *PlanChangedError) Error() string {
	return fmt.Sprintf("%v (shown %s, now %s): nothing was applied", ErrPlanChanged, shortDigest(e.Shown), shortDigest(e.Plan.Digest))
}

// Is makes errors.Is(err, ErrPlanChanged) true.
func (e *PlanChangedError) Is(target error) bool { return target == ErrPlanChanged }

// shortDigest abbreviates a plan digest for an error message.
func shortDigest(d string) string {
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

// ProblemsError means the plan has problems (render, validation or dry-run
// errors, such as an immutable field change): nothing was applied.
type ProblemsError struct {
	Problems []planner.Problem
}

func (e *ProblemsError) Error() string {
	var parts []string
	for i, p := range e.Problems {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(e.Problems)-3))
			break
		}
		s := p.Message
		if p.Object != "" {
			s = p.Object + ": " + s
		}
		if p.Source.File != "" {
			loc := p.Source.File
			if p.Source.Line > 0 {
				loc = fmt.Sprintf("%s:%d", loc, p.Source.Line)
			}
			s = loc + ": " + s
		}
		parts = append(parts, s)
	}
	return fmt.Sprintf("the plan has %d problem(s), nothing was applied: %s", len(e.Problems), strings.Join(parts, "; "))
}

// DangerousError means the plan makes changes it marks dangerous (deletes a
// Namespace, PVC, PV or CRD, takes an object over from another ApplySet)
// and the caller did not allow them: nothing was applied.
type DangerousError struct {
	Changes []planner.Change
}

func (e *DangerousError) Error() string {
	var parts []string
	for _, c := range e.Changes {
		parts = append(parts, fmt.Sprintf("%s %s (%s)", c.Action, c.Ref, c.Danger))
	}
	return fmt.Sprintf("the plan has dangerous changes: %s; apply again with allow-dangerous to make them. Nothing was applied", strings.Join(parts, ", "))
}

// IncompleteError means the apply stopped part-way (an error, a cancelled
// context, an API server gone): it says what was and wasn't applied. Running
// the apply again (it re-plans) converges.
type IncompleteError struct {
	Applied    []planner.ObjectRef
	NotApplied []planner.ObjectRef
	// Unknown lists writes whose outcome could not be checked because the
	// re-plan after the failure did not succeed.
	Unknown []planner.ObjectRef
	Cause   error
}

func (e *IncompleteError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "apply incomplete: %v. Applied %d object(s)", e.Cause, len(e.Applied))
	if len(e.Applied) > 0 {
		fmt.Fprintf(&b, " (%s)", joinCapped(refStrings(e.Applied), 5))
	}
	fmt.Fprintf(&b, "; not applied %d", len(e.NotApplied))
	if len(e.NotApplied) > 0 {
		fmt.Fprintf(&b, " (%s)", joinCapped(refStrings(e.NotApplied), 5))
	}
	if len(e.Unknown) > 0 {
		fmt.Fprintf(&b, "; unknown %d (%s)", len(e.Unknown), joinCapped(refStrings(e.Unknown), 5))
	}
	b.WriteString(". Run the apply again to converge")
	return b.String()
}

func (e *IncompleteError) Unwrap() error { return e.Cause }

func refStrings(refs []planner.ObjectRef) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.String()
	}
	return out
}
