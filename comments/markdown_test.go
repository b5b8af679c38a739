package comments

import (
	"strings"
	"testing"
)

// Plain text from a repository or cluster must read as the same text once
// rendered, wherever on a line it lands.
func TestTextStaysText(t *testing.T) {
	for _, s := range []string{
		"#", "# heading", "- item", "+ item", "1. first", "12) twelfth", "===", "---", "> quote", "    indented code",
		"*em* _em_ **strong** ~~del~~ $x$", "[link](http://x) ![img](x)", "a | b", "<b>bold</b> &amp;", "`code`",
		"@acme/sre", `back\slash`, "line1\nline2",
	} {
		for _, prefix := range []string{"", "> ", "- ", "> [!NOTE]\n> "} {
			got := tags(renderMarkdown(t, prefix+text(s)+"\n").html)
			if want := tags(renderMarkdown(t, prefix+"plain\n").html); got != want {
				t.Errorf("%q after %q renders as %s, plain text as %s", s, prefix, got, want)
			}
		}
	}
}

func TestCodeSpan(t *testing.T) {
	for in, want := range map[string]string{
		"web":     "`web`",
		"a`b":     "``a`b``",
		"`x":      "`` `x ``",
		" a ":     "`  a  `",
		"":        "` `",
		"two\nln": "`two ln`",
	} {
		if got := code(in); got != want {
			t.Errorf("code(%q) = %q, want %q", in, got, want)
		}
	}
}

// tags lists the HTML tags in h, in order.
func tags(h string) string {
	var out []string
	for _, m := range htmlTag.FindAllStringSubmatch(h, -1) {
		out = append(out, m[1]+m[2])
	}
	return strings.Join(out, " ")
}
