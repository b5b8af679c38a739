package comments

import (
	"fmt"
	"strings"
	"testing"
)

func TestConfigCheckSummary(t *testing.T) {
	got := ConfigCheckSummary("The changed .tugboat.yaml is invalid:", []string{".tugboat.yaml:3: unknown key `foo`", ".tugboat.yaml:9: bad <value>"})
	for _, want := range []string{"The changed .tugboat.yaml is invalid:\n\n", "**Problems** (2):\n\n",
		"- .tugboat.yaml:3: unknown key \\`foo\\`\n", "- .tugboat.yaml:9: bad &lt;value&gt;\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	renderMarkdown(t, got)
}

// TestConfigCheckSummaryClipped: thousands of problems still make a summary
// GitHub accepts, saying how many were left out.
func TestConfigCheckSummaryClipped(t *testing.T) {
	var problems []string
	for i := range 20000 {
		problems = append(problems, fmt.Sprintf(".tugboat.yaml:%d: environments.env-%d.cluster: required", i+1, i))
	}
	got := ConfigCheckSummary("The changed .tugboat.yaml is invalid and would stop tugboat from planning once merged:", problems)
	if len(got) > MaxCheckRunText {
		t.Fatalf("summary is %d bytes, over GitHub's %d", len(got), MaxCheckRunText)
	}
	if !strings.Contains(got, "- .tugboat.yaml:1: environments.env-0.cluster: required\n") || !strings.Contains(got, " more: see the annotations") {
		t.Errorf("want the first problems and how many more:\n%s", got[len(got)-300:])
	}
	renderMarkdown(t, got)
}
