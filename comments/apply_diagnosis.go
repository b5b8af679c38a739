package comments

import (
	"fmt"
	"strings"

	"github.com/tugboatops/tugboat/applier"
)

// Bounds that keep every block of a diagnosis small, whatever the cluster
// said: a block must fit a comment by itself, and a person reads the first
// few lines anyway. The applier bounds these too; rendering does not rely
// on it.
const (
	maxContainersShown = 10
	maxLogLines        = 20
	maxLogLine         = 500
	maxEventsShown     = 10
)

// diagnoses renders every object that was not ready when the wait ended:
// its status and message, then (for workloads) each current pod with its
// containers' states, restarts and last log lines, and the recent events.
// Each of those is one block for the budget.
func (r report) diagnoses(w *budget, max int, more string) {
	objs := r.notReady()
	if len(objs) == 0 {
		return
	}
	for i, o := range objs {
		if max > 0 && i == max {
			rest := fmt.Sprintf("…and %d more not ready%s.\n\n", len(objs)-i, more)
			if !w.add(rest) {
				w.note(rest)
			}
			return
		}
		head := objectHead(o)
		if i == 0 {
			head = fmt.Sprintf("### Not ready (%d)\n\n", len(objs)) + head
		}
		if !w.add(head) {
			return
		}
		if o.Diagnosis != nil {
			diagnosis(w, o.Diagnosis)
		}
	}
}

// objectHead is an object's status line and message.
func objectHead(o applier.ObjectStatus) string {
	mark := "⏳"
	if o.Status == applier.StatusFailed {
		mark = "❌"
	}
	line := fmt.Sprintf("%s **%s** %s", mark, code(clip(objectName(o.Ref), 300)), text(string(o.Status)))
	if o.Message != "" {
		line += ": " + text(clip(o.Message, 2000))
	}
	return line + "\n\n"
}

func diagnosis(w *budget, d *applier.Diagnosis) {
	for _, p := range d.Pods {
		if !w.add(podBlock(p)) {
			return
		}
		for i, c := range p.Containers {
			if i == maxContainersShown {
				break
			}
			if blk := logBlock(c); blk != "" && !w.add(blk) {
				return
			}
		}
	}
	if d.PodsOmitted > 0 {
		pods := "pods"
		if d.PodsOmitted == 1 {
			pods = "pod"
		}
		if !w.add(fmt.Sprintf("…and %d more %s.\n\n", d.PodsOmitted, pods)) {
			return
		}
	}
	w.add(eventsBlock(d.Events))
}

// podBlock is a pod's line and a table of its containers.
func podBlock(p applier.PodState) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Pod %s (%s)", code(clip(p.Name, 300)), text(clip(p.Phase, 100)))
	if p.Message != "" {
		b.WriteString(": " + text(clip(p.Message, 1000)))
	}
	b.WriteString("\n\n")
	if len(p.Containers) == 0 {
		return b.String()
	}
	// text() escapes '|' already; code spans need cell() to keep theirs.
	b.WriteString("| Container | State | Ready | Restarts | Last terminated |\n|---|---|---|---|---|\n")
	for i, c := range p.Containers {
		if i == maxContainersShown {
			fmt.Fprintf(&b, "| …and %d more | | | | |\n", len(p.Containers)-i)
			break
		}
		name := code(clip(c.Name, 200))
		if c.Init {
			name += " (init)"
		}
		state := text(clip(c.State, 100))
		if c.Reason != "" {
			state += ": " + text(clip(c.Reason, 200))
		}
		if c.State == "terminated" {
			state += fmt.Sprintf(" (exit code %d)", c.ExitCode)
		}
		if c.Message != "" {
			state += " — " + text(clip(c.Message, 300))
		}
		ready := "no"
		if c.Ready {
			ready = "yes"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %s |\n", cell(name), state, ready, c.Restarts,
			text(clip(c.LastTermination, 200)))
	}
	b.WriteString("\n")
	return b.String()
}

// logBlock is a container's last log lines as a code block (so nothing in
// them is Markdown), or why they could not be read.
func logBlock(c applier.ContainerState) string {
	name := code(clip(c.Name, 200))
	if c.LogsError != "" && len(c.Logs) == 0 {
		return fmt.Sprintf("Logs of %s could not be read: %s\n\n", name, text(clip(c.LogsError, 500)))
	}
	if len(c.Logs) == 0 {
		return ""
	}
	lines := c.Logs
	if len(lines) > maxLogLines {
		lines = lines[len(lines)-maxLogLines:]
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(clip(oneLine(l), maxLogLine) + "\n")
	}
	return fmt.Sprintf("Last log lines of %s:\n\n%s\n", name, codeBlock("text", b.String()))
}

// eventsBlock is the recent events as a table, newest last.
func eventsBlock(events []applier.Event) string {
	if len(events) == 0 {
		return ""
	}
	if len(events) > maxEventsShown {
		events = events[len(events)-maxEventsShown:]
	}
	var b strings.Builder
	b.WriteString("Events:\n\n| Type | Reason | Object | Message | Count |\n|---|---|---|---|---|\n")
	for _, e := range events {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d |\n", text(clip(e.Type, 50)), text(clip(e.Reason, 100)),
			cell(code(clip(e.Object, 300))), text(clip(e.Message, 300)), e.Count)
	}
	b.WriteString("\n")
	return b.String()
}
