package planner

import (
	"fmt"

	"github.com/pmezard/go-difflib/difflib"
	"sigs.k8s.io/yaml"
)

// diffContext is the number of unchanged lines shown around each change,
// as in `diff -u` and `kubectl diff`.
const diffContext = 3

// unifiedDiff renders live → planned (either may be nil, for a create or a
// delete) as a unified diff of their YAML. Both must already be normalized
// and, for Secrets, masked. go-difflib is the diff kubectl's ecosystem and
// testify already use; it is in our module graph through them.
func unifiedDiff(live, planned map[string]any) (string, error) {
	return unifiedDiffLabeled(live, planned, "planned")
}

// unifiedDiffLabeled is unifiedDiff with a label of its own for the
// planned side, which says when the planned object was not dry-run.
func unifiedDiffLabeled(live, planned map[string]any, plannedLabel string) (string, error) {
	a, err := toYAML(live)
	if err != nil {
		return "", fmt.Errorf("live object to YAML: %w", err)
	}
	b, err := toYAML(planned)
	if err != nil {
		return "", fmt.Errorf("planned object to YAML: %w", err)
	}
	return difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A:        difflib.SplitLines(a),
		B:        difflib.SplitLines(b),
		FromFile: "live",
		ToFile:   plannedLabel,
		Context:  diffContext,
	})
}

func toYAML(obj map[string]any) (string, error) {
	if obj == nil {
		return "", nil
	}
	b, err := yaml.Marshal(obj)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
