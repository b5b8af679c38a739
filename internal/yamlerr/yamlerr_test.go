package yamlerr

import (
	"context"
	"errors"
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

// parseErr is yaml.v3's error for data, as config and planner get it.
func parseErr(t *testing.T, data string) error {
	t.Helper()
	var n yaml.Node
	err := yaml.Unmarshal([]byte(data), &n)
	if err == nil {
		t.Fatalf("%q parses", data)
	}
	return err
}

func TestLocate(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		line       int
		msg        string
	}{
		{"dedented key", "a:\n  b: 1\n  c: 2\n d: 3\n", 4, "did not find expected key"},
		{"unclosed flow list", "a:\n  b: [1, 2\n  c: 3\n", 2, "did not find expected ',' or ']'"},
		{"tab indentation", "a:\n  b: 1\n\tc: 2\n", 3, "found a tab character that violates indentation"},
		{"mapping in a value", "a:\n  b: c: d\n", 2, "mapping values are not allowed in this context"},
		{"first line", "a: b: c\n", 1, "mapping values are not allowed in this context"},
		{"no final newline", "a:\n  b: 1\n c: 2", 3, "did not find expected key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			line, msg := Locate(context.Background(), []byte(tc.data), parseErr(t, tc.data))
			if line != tc.line || msg != tc.msg {
				t.Fatalf("Locate = %d %q, want %d %q", line, msg, tc.line, tc.msg)
			}
		})
	}
}

// An error only yaml.v3 finds (yaml.v2 accepts the document) keeps
// yaml.v3's own line and message.
func TestLocateKeepsOtherParsersError(t *testing.T) {
	line, msg := Locate(context.Background(), []byte("a: 1\n"), errors.New("yaml: line 7: something only v3 says"))
	if line != 7 || msg != "something only v3 says" {
		t.Fatalf("Locate = %d %q", line, msg)
	}
}

// Once the context has ended, the parser's own line is reported without
// searching: yaml.v2 names the line before a dedented key (0-based), the
// search the key itself.
func TestLocateStopsWhenContextEnds(t *testing.T) {
	data := "a:\n  b: 1\n  c: 2\n d: 3\n"
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if line, _ := Locate(ctx, []byte(data), parseErr(t, data)); line != 3 {
		t.Fatalf("with an ended context: line %d, want the parser's 3", line)
	}
	if line, _ := Locate(context.Background(), []byte(data), parseErr(t, data)); line != 4 {
		t.Fatalf("line %d, want 4", line)
	}
}

func TestSplitLine(t *testing.T) {
	for in, want := range map[string]struct {
		line int
		msg  string
	}{
		"yaml: line 12: did not find expected key":                                    {12, "did not find expected key"},
		"error converting YAML to JSON: yaml: line 3: mapping values are not allowed": {3, "mapping values are not allowed"},
		"line 5: field nope not found in type config.Server":                          {5, "field nope not found in type config.Server"},
		"yaml: unknown anchor 'x' referenced":                                         {0, "unknown anchor 'x' referenced"},
	} {
		line, msg := SplitLine(in)
		if line != want.line || msg != want.msg {
			t.Errorf("SplitLine(%q) = %d %q, want %d %q", in, line, msg, want.line, want.msg)
		}
	}
}
