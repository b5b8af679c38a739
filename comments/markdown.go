package comments

import (
	"html"
	"strings"
	"unicode/utf8"
)

// Everything that reaches a comment from a repository or a cluster — object
// names, problem messages, diffs — is untrusted text. The helpers below make
// sure such text can never close a fence, end a <details> block, split a table
// cell, inject HTML or @-mention people.

// longestBacktickRun returns the length of the longest run of '`' in s.
func longestBacktickRun(s string) int {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			if run > longest {
				longest = run
			}
			continue
		}
		run = 0
	}
	return longest
}

// fenceFor returns a backtick fence longer than any backtick run in content,
// so no line of content can close it (CommonMark §4.5).
func fenceFor(content string) string {
	n := longestBacktickRun(content) + 1
	if n < 3 {
		n = 3
	}
	return strings.Repeat("`", n)
}

// sanitizeBlock makes text safe to place verbatim inside a fenced code
// block: valid UTF-8, no NUL (CommonMark would replace it anyway), and "\n"
// line endings only — a lone "\r" is a line ending to CommonMark, and GitHub
// normalises CRLF, so leaving them would change what is shown.
func sanitizeBlock(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.ContainsAny(s, "\r\x00") {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	return s
}

// codeBlock renders content as a fenced code block with the given info
// string. The content appears verbatim between the fences.
func codeBlock(info, content string) string {
	content = sanitizeBlock(content)
	if content != "" && !strings.HasSuffix(content, "\n") {
		content += "\n"
	}
	f := fenceFor(content)
	return f + info + "\n" + content + f + "\n"
}

// oneLine folds text onto one line: newlines and tabs become spaces.
func oneLine(s string) string {
	s = sanitizeBlock(s)
	return strings.Map(func(r rune) rune {
		switch r {
		case '\n', '\t', '\v', '\f':
			return ' '
		}
		return r
	}, s)
}

// code renders s as an inline code span. Code spans show text literally
// (no Markdown, no HTML, no mentions); the delimiter is longer than any
// backtick run inside.
func code(s string) string {
	s = oneLine(s)
	if s == "" {
		return "` `"
	}
	d := strings.Repeat("`", longestBacktickRun(s)+1)
	// A span starting or ending with a backtick needs a space so the
	// delimiter is not read as part of the content; one surrounding space on
	// each side is stripped again by CommonMark.
	if s[0] == '`' || s[len(s)-1] == '`' || (s[0] == ' ' && s[len(s)-1] == ' ') {
		s = " " + s + " "
	}
	return d + s + d
}

// cell makes Markdown safe inside a GFM table cell: a '|' anywhere in a row,
// even inside a code span, ends the cell unless escaped.
func cell(md string) string {
	return strings.ReplaceAll(md, "|", `\|`)
}

// text escapes plain text for inline Markdown: emphasis, code, link, table,
// strikethrough and math delimiters are backslash-escaped, HTML is written as
// entities, and '@' gets a zero-width space so "@org/team" in an error message
// pings nobody. The result is also safe at the start of a line: leading
// spaces are dropped and a character that would open a block there (a
// heading, list, quote or setext underline) is escaped.
func text(s string) string {
	s = strings.TrimSpace(oneLine(s))
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	if n := leadingDigits(s); n > 0 && n < len(s) && (s[n] == '.' || s[n] == ')') {
		// "1. x" would start an ordered list.
		b.WriteString(s[:n] + `\` + s[n:n+1])
		s = s[n+1:]
	} else if s != "" && strings.IndexByte("#-+=", s[0]) >= 0 {
		b.WriteByte('\\')
	}
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '@':
			b.WriteString("@\u200b")
		case '\\', '`', '*', '_', '[', ']', '|', '~', '$':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func leadingDigits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// htmlText escapes text for raw-HTML contexts such as <summary>, where
// GitHub does not apply Markdown.
func htmlText(s string) string {
	return html.EscapeString(oneLine(s))
}

// truncateRunes cuts s to at most max bytes without splitting a UTF-8
// sequence, reporting whether anything was cut.
func truncateRunes(s string, max int) (string, bool) {
	if len(s) <= max {
		return s, false
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut], true
}

// clip shortens untrusted free text (problem messages, notes) that has no
// business being longer than a few screens, marking the cut.
func clip(s string, max int) string {
	if t, cut := truncateRunes(s, max); cut {
		return t + " … (cut)"
	}
	return s
}
