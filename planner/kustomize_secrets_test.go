package planner

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

// TestRenderSecretGeneratorLiteralErrorShowsNoValue: krusty's error for a
// bad secretGenerator literal lists every literal, values included. The
// problem names the generator, the literal's line and at most its key.
func TestRenderSecretGeneratorLiteralErrorShowsNoValue(t *testing.T) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	marker := "v4lue" + hex.EncodeToString(b)
	for _, tc := range []struct {
		name, literal, want string
	}{
		{"no equals sign", marker + "-pasted-without-key", `k/kustomization.yaml:7 : secretGenerator "db": literal 3 is not key=value`},
		{"empty key", "=" + marker + "-keyless", `k/kustomization.yaml:7 : secretGenerator "db": literal 3 has no key before "="`},
		{"invalid key", "bad key=" + marker + "-badkey", `k/kustomization.yaml:7 : secretGenerator "db": literal 3: key "bad key" is not a valid Secret key`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo := fstest.MapFS{
				"k/kustomization.yaml": {Data: []byte(fmt.Sprintf(`namespace: shop
secretGenerator:
- name: db
  literals:
  - user=%[1]s-user
  - password=%[1]s-password
  - %[2]q
`, marker, tc.literal))},
			}
			objs, probs := RenderInProcess(repo, "k", DefaultLimits())
			if len(objs) != 0 {
				t.Errorf("rendered %d objects despite the bad literal", len(objs))
			}
			wantProblems(t, probs, tc.want)
			if text := strings.Join(problemStrings(probs), "\n"); strings.Contains(text, marker) {
				t.Errorf("the problem shows a literal's value:\n%s", text)
			}
		})
	}

	// A SecretGenerator config under generators:, in a file and inline.
	gen := fmt.Sprintf(`apiVersion: builtin
kind: SecretGenerator
metadata:
  name: from-config
literals:
- user=%[1]s-user
- %[1]s-pasted
`, marker)
	for name, repo := range map[string]fstest.MapFS{
		"file": {
			"k/kustomization.yaml": {Data: []byte("generators:\n- gen.yaml\n")},
			"k/gen.yaml":           {Data: []byte(gen)},
		},
		"inline": {
			"k/kustomization.yaml": {Data: []byte("generators:\n- |-\n" + indent(gen, "  "))},
		},
	} {
		t.Run(name, func(t *testing.T) {
			want := `k/gen.yaml:7 : secretGenerator "from-config": literal 2 is not key=value`
			if name == "inline" {
				want = `k/kustomization.yaml:9 : secretGenerator "from-config": literal 2 is not key=value`
			}
			_, probs := RenderInProcess(repo, "k", DefaultLimits())
			wantProblems(t, probs, want)
			text := strings.Join(problemStrings(probs), "\n")
			if strings.Contains(text, marker) {
				t.Errorf("the problem shows a literal's value:\n%s", text)
			}
		})
	}

	// Good literals still render.
	repo := fstest.MapFS{"k/kustomization.yaml": {Data: []byte("secretGenerator:\n- name: db\n  literals: [user=admin, 'password=\"quoted\"']\n")}}
	objs, probs := RenderInProcess(repo, "k", DefaultLimits())
	if len(probs) != 0 || len(objs) != 1 {
		t.Fatalf("valid literals: %d objects, problems %v", len(objs), problemStrings(probs))
	}
}

func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "")
}
