package applier

import (
	"fmt"
	"io"
	"strings"

	"github.com/tugboatops/tugboat/kube"
)

// WriteReport writes a plain-text account of an apply: what was written,
// taken over and pruned, and the convergence result with the failure
// details a person needs (for `bot apply` and logs; PR comments have their
// own renderer).
func WriteReport(w io.Writer, r *Result) {
	if r == nil {
		return
	}
	counts := map[WriteOutcome]int{}
	for _, wr := range r.Writes {
		counts[wr.Outcome]++
	}
	fmt.Fprintf(w, "apply: %d applied, %d skipped (if-not-present), %d failed, %d not attempted, %d unknown  [%s]\n",
		counts[WriteApplied], counts[WriteSkipped], counts[WriteFailed], counts[WriteNotAttempted], counts[WriteUnknown], r.ApplyTime.Round(1e6))
	for _, wr := range r.Writes {
		if wr.Error != "" {
			fmt.Fprintf(w, "  ✗ %s: %s\n", wr.Ref, wr.Error)
		}
	}
	for _, t := range r.Takeovers {
		fmt.Fprintf(w, "  took over %s %s from %q\n", t.Ref, t.Field, t.Manager)
	}
	if len(r.Prunes) > 0 {
		fmt.Fprintf(w, "prune: [%s]\n", r.PruneTime.Round(1e6))
		for _, p := range r.Prunes {
			line := fmt.Sprintf("  %s: %s", p.Ref, p.Outcome)
			if p.Reason != "" {
				line += " (" + p.Reason + ")"
			}
			fmt.Fprintln(w, line)
		}
	}
	if r.Wait != nil {
		writeWait(w, r.Wait)
	}
	switch {
	case r.Outcome == kube.OutcomeConverged:
		fmt.Fprintln(w, "result: converged")
	default:
		fmt.Fprintln(w, "result: NOT converged")
	}
}

func writeWait(w io.Writer, res *WaitResult) {
	n := map[Status]int{}
	for _, o := range res.Objects {
		n[o.Status]++
	}
	fmt.Fprintf(w, "wait: %d Current, %d InProgress, %d Failed, %d NotFound  [%s]\n",
		n[StatusCurrent], n[StatusInProgress], n[StatusFailed], n[StatusNotFound], res.Duration.Round(1e6))
	if res.TimedOut {
		fmt.Fprintln(w, "  timed out before every object was ready")
	}
	for _, o := range res.Objects {
		if o.Status == StatusCurrent {
			continue
		}
		fmt.Fprintf(w, "  %s %s: %s\n", mark(o.Status), o.Ref, o.Message)
		if o.Diagnosis != nil {
			writeDiagnosis(w, o.Diagnosis)
		}
	}
}

func mark(s Status) string {
	if s == StatusFailed {
		return "✗"
	}
	return "…"
}

func writeDiagnosis(w io.Writer, d *Diagnosis) {
	for _, p := range d.Pods {
		line := fmt.Sprintf("    pod %s (%s)", p.Name, p.Phase)
		if p.Message != "" {
			line += ": " + p.Message
		}
		fmt.Fprintln(w, line)
		for _, c := range p.Containers {
			kind := "container"
			if c.Init {
				kind = "init container"
			}
			state := c.State
			if c.Reason != "" {
				state += " " + c.Reason
			}
			if c.State == "terminated" {
				state += fmt.Sprintf(" (exit code %d)", c.ExitCode)
			}
			fmt.Fprintf(w, "      %s %s: %s, ready=%t, restarts=%d", kind, c.Name, state, c.Ready, c.Restarts)
			if c.LastTermination != "" {
				fmt.Fprintf(w, ", last terminated: %s", c.LastTermination)
			}
			fmt.Fprintln(w)
			if c.Message != "" {
				fmt.Fprintf(w, "        %s\n", c.Message)
			}
			for _, l := range c.Logs {
				fmt.Fprintf(w, "        | %s\n", l)
			}
			if c.LogsError != "" {
				fmt.Fprintf(w, "        (%s)\n", c.LogsError)
			}
		}
	}
	if d.PodsOmitted > 0 {
		fmt.Fprintf(w, "    … and %d more pod(s)\n", d.PodsOmitted)
	}
	if len(d.Events) > 0 {
		fmt.Fprintln(w, "    events:")
		for _, e := range d.Events {
			fmt.Fprintf(w, "      %s %s %s: %s", e.Type, e.Reason, e.Object, strings.ReplaceAll(e.Message, "\n", " "))
			if e.Count > 1 {
				fmt.Fprintf(w, " (×%d)", e.Count)
			}
			fmt.Fprintln(w)
		}
	}
}
