package comments

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/renderer/html"
	gmtext "github.com/yuin/goldmark/text"
)

// rendered is one comment part as a GitHub-flavoured Markdown renderer sees
// it.
type rendered struct {
	html  string
	diffs []string // contents of ```diff blocks, in order
	// tableCells has, per table row, the number of cells.
	tableCells []int
}

// newMarkdown is goldmark with GFM and raw HTML passed through, like
// GitHub's renderer before sanitizing.
func newMarkdown() goldmark.Markdown {
	return goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(html.WithUnsafe()))
}

// renderMarkdown parses and renders one part and fails the test unless it is
// valid on its own: every <details> closed in order, every code block in
// the HTML a parsed fence.
func renderMarkdown(t testing.TB, part string) rendered {
	t.Helper()
	md := newMarkdown()
	src := []byte(part)
	doc := md.Parser().Parse(gmtext.NewReader(src))
	var out rendered
	err := ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.FencedCodeBlock:
			if string(n.Language(src)) == "diff" {
				var b bytes.Buffer
				lines := n.Lines()
				for i := 0; i < lines.Len(); i++ {
					seg := lines.At(i)
					b.Write(seg.Value(src))
				}
				out.diffs = append(out.diffs, b.String())
			}
		case *extast.TableRow, *extast.TableHeader:
			out.tableCells = append(out.tableCells, n.ChildCount())
		}
		return ast.WalkContinue, nil
	})
	if err != nil {
		t.Fatalf("walk: %v", err)
	}
	var h bytes.Buffer
	if err := md.Renderer().Render(&h, src, doc); err != nil {
		t.Fatalf("render: %v", err)
	}
	out.html = h.String()
	checkDetailsBalanced(t, out.html)
	if got := strings.Count(out.html, `<pre><code class="language-diff">`); got != len(out.diffs) {
		t.Fatalf("%d diff code blocks in the HTML, %d fences parsed", got, len(out.diffs))
	}
	for i, c := range out.tableCells {
		if c != out.tableCells[0] {
			t.Fatalf("table row %d has %d cells, the header %d:\n%s", i, c, out.tableCells[0], part)
		}
	}
	return out
}

var detailsTag = regexp.MustCompile(`<(/?)details[ >]`)

// checkDetailsBalanced fails unless every <details> in the HTML is closed,
// in order. Tags shown as text inside code blocks are escaped (&lt;) and do
// not count.
func checkDetailsBalanced(t testing.TB, h string) {
	t.Helper()
	depth := 0
	for _, m := range detailsTag.FindAllStringSubmatch(h, -1) {
		if m[1] == "/" {
			depth--
		} else {
			depth++
		}
		if depth < 0 || depth > 1 {
			t.Fatalf("<details> nesting broken (depth %d) in:\n%s", depth, h)
		}
	}
	if depth != 0 {
		t.Fatalf("%d <details> left open in:\n%s", depth, h)
	}
}
