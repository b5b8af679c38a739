package config

import (
	"fmt"
	"strings"
)

// Error is one problem in a configuration file, at a 1-based line (0 when
// the problem is about the file as a whole).
type Error struct {
	File    string
	Line    int
	Message string
}

// Error formats as "file:line: message", the form editors and GitHub
// annotations understand.
func (e Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Message)
}

// Errors is every problem found in a configuration file, in line order, so
// a user can fix them all in one go.
type Errors []Error

// Error joins the problems, one per line.
func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}
