package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// A plan too long for one comment is split into continuations, each under
// GitHub's limit (the emulator refuses longer ones) and each valid
// Markdown on its own: fences balanced, <details> closed.
func TestLongPlanSplitsIntoContinuations(t *testing.T) {
	w := newWorld(t, options{})
	files := map[string]string{}
	for i := 0; i < 160; i++ {
		files[fmt.Sprintf("deploy/staging/cm-%03d.yaml", i)] = configMap(fmt.Sprintf("cm-%03d", i), "payload", strings.Repeat(fmt.Sprintf("line %d of a long value ", i), 30))
	}
	n, sha := w.openPR("long", files)
	checks := w.waitPlanned(sha, "staging")
	set := w.planComments(n, sha)
	if len(set) < 2 {
		t.Fatalf("a %d-object plan fit in %d comment(s); want continuations", 160, len(set))
	}
	fence := regexp.MustCompile("(?m)^(`{3,})")
	for i, c := range set {
		if utf8.RuneCountInString(c.Body) > 65536 {
			t.Errorf("part %d has %d characters", i+1, utf8.RuneCountInString(c.Body))
		}
		if !strings.HasPrefix(c.Body, fmt.Sprintf("<!-- tugboat:plan sha=%s part=%d -->", sha, i+1)) {
			t.Errorf("part %d starts with %.80q", i+1, c.Body)
		}
		if len(fence.FindAllString(c.Body, -1))%2 != 0 {
			t.Errorf("part %d has an unclosed code fence", i+1)
		}
		if strings.Count(c.Body, "<details") != strings.Count(c.Body, "</details>") {
			t.Errorf("part %d has an unclosed <details>", i+1)
		}
	}
	all := allBodies(set)
	for i := 0; i < 160; i++ {
		if !strings.Contains(all, fmt.Sprintf("cm-%03d", i)) {
			t.Errorf("object cm-%03d is in no part", i)
		}
	}
	if len(checks["tugboat/staging"].Text) > 65535 {
		t.Errorf("check run text over the limit")
	}
}
