package planner

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	yaml "go.yaml.in/yaml/v3"
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
		A:        splitLines(a),
		B:        splitLines(b),
		FromFile: "live",
		ToFile:   plannedLabel,
		Context:  diffContext,
	})
}

// splitLines splits YAML text into lines that keep their "\n". Unlike
// difflib.SplitLines it yields nothing for "" (a create's live side must
// have no lines at all) and no empty line after the final newline.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	} else {
		lines[len(lines)-1] += "\n"
	}
	return lines
}

// toYAML renders an object with sorted keys, two-space indents and
// multi-line strings (a ConfigMap's embedded config file) as literal
// blocks, so a diff shows the changed line of such a file instead of one
// long escaped string. yaml.v3 encodes the map directly, about twice as
// fast as a JSON round trip through sigs.k8s.io/yaml (BenchmarkPlan1000
// renders YAML for every changed object).
func toYAML(obj map[string]any) (string, error) {
	if obj == nil {
		return "", nil
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(obj); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return b.String(), nil
}
