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

// removePaths deletes the values at the given JSON pointers (RFC 6901).
// Pointers that lead nowhere are fine: the field is simply not set.
func removePaths(obj map[string]any, pointers []string) {
	for _, p := range pointers {
		removePointer(obj, p)
	}
}

func removePointer(obj map[string]any, pointer string) {
	if !strings.HasPrefix(pointer, "/") {
		return
	}
	tokens := strings.Split(pointer[1:], "/")
	for i, t := range tokens {
		tokens[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	removeAt(obj, tokens)
}

// removeAt removes tokens' target below v and returns v's new value (a
// slice shrinks, so its parent must store the result).
func removeAt(v any, tokens []string) any {
	t, last := tokens[0], len(tokens) == 1
	switch c := v.(type) {
	case map[string]any:
		child, ok := c[t]
		if !ok {
			return c
		}
		if last {
			delete(c, t)
		} else {
			c[t] = removeAt(child, tokens[1:])
		}
		return c
	case []any:
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 || n >= len(c) {
			return c
		}
		if last {
			return append(c[:n:n], c[n+1:]...)
		}
		c[n] = removeAt(c[n], tokens[1:])
		return c
	default:
		return v
	}
}
