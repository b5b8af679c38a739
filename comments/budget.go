package comments

import (
	"fmt"
	"strings"
)

// budget builds Markdown out of self-contained blocks up to a byte limit,
// so that a cut falls between blocks — never inside a fence, a table or a
// <details> element. The last reserve bytes are kept for the notes that
// say what was cut.
type budget struct {
	b       strings.Builder
	limit   int
	reserve int
	// cut is set once a block did not fit; later blocks are dropped, so
	// the text never skips something and then shows what came after it.
	cut bool
}

// budgetReserve is room for a list's "…and N more" line plus the closing
// note, each bounded (a URL is clipped before it gets here).
const budgetReserve = 1024

func newBudget(limit int) *budget {
	return &budget{limit: limit, reserve: budgetReserve}
}

// add appends block if it fits, reporting whether it did.
func (w *budget) add(block string) bool {
	if w.cut || w.b.Len()+len(block) > w.limit-w.reserve {
		w.cut = true
		return false
	}
	w.b.WriteString(block)
	return true
}

// note appends text from the reserve, for the lines that say what was cut.
func (w *budget) note(s string) {
	if w.b.Len()+len(s) <= w.limit {
		w.b.WriteString(s)
	}
}

func (w *budget) String() string { return w.b.String() }

// list adds a bullet list under a bold label, item by item: at most max
// items (0: as many as fit), then "…and N more" with more (e.g. "see the
// check run"). The label goes in with the first item, so a cut never
// leaves a label without its list. It reports whether every item fit.
func (w *budget) list(label string, items []string, max int, more string) bool {
	if len(items) == 0 || w.cut {
		return len(items) == 0
	}
	head := fmt.Sprintf("%s (%d):\n\n", label, len(items))
	for i, it := range items {
		line := "- " + it + "\n"
		if i == 0 {
			line = head + line
		}
		capped := max > 0 && i == max
		if capped || !w.add(line) {
			if i == 0 {
				return false
			}
			rest := fmt.Sprintf("- …and %d more%s\n\n", len(items)-i, more)
			if !capped || !w.add(rest) {
				w.note(rest)
			}
			return false
		}
	}
	w.add("\n")
	return true
}
