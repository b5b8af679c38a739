package planner

import (
	"strconv"
	"strings"

	"github.com/tugboatops/tugboat/config"
)

// ignorePathsFor returns the JSON pointers the environment's ignore rules
// drop from an object. A rule's empty Group, Name or Namespace matches any.
func ignorePathsFor(rules []config.IgnoreRule, ref ObjectRef) []string {
	var paths []string
	for _, r := range rules {
		if r.Kind != ref.Kind ||
			(r.Group != "" && r.Group != ref.Group) ||
			(r.Name != "" && r.Name != ref.Name) ||
			(r.Namespace != "" && r.Namespace != ref.Namespace) {
			continue
		}
		paths = append(paths, r.Paths...)
	}
	return paths
}

// removePaths deletes the values at the given JSON pointers (RFC 6901) and
// returns the pointers that held one. Pointers that lead nowhere are fine:
// the field is simply not set.
func removePaths(obj map[string]any, pointers []string) []string {
	var removed []string
	for _, p := range pointers {
		if removePointer(obj, p) {
			removed = append(removed, p)
		}
	}
	return removed
}

func removePointer(obj map[string]any, pointer string) bool {
	if !strings.HasPrefix(pointer, "/") {
		return false
	}
	tokens := strings.Split(pointer[1:], "/")
	for i, t := range tokens {
		tokens[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	_, removed := removeAt(obj, tokens)
	return removed
}

// removeAt removes tokens' target below v and returns v's new value (a
// slice shrinks, so its parent must store the result) and whether there
// was a value to remove.
func removeAt(v any, tokens []string) (any, bool) {
	t, last := tokens[0], len(tokens) == 1
	switch c := v.(type) {
	case map[string]any:
		child, ok := c[t]
		if !ok {
			return c, false
		}
		if last {
			delete(c, t)
			return c, true
		}
		var removed bool
		c[t], removed = removeAt(child, tokens[1:])
		return c, removed
	case []any:
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 || n >= len(c) {
			return c, false
		}
		if last {
			return append(c[:n:n], c[n+1:]...), true
		}
		var removed bool
		c[n], removed = removeAt(c[n], tokens[1:])
		return c, removed
	default:
		return v, false
	}
}
