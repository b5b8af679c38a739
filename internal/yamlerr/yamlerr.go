// Package yamlerr finds where in a file a YAML syntax error is. Both
// .tugboat.yaml (config) and manifests (planner) report syntax errors at a
// line a user can go to; this is the one place that works that line out.
package yamlerr

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"

	yamlv2 "go.yaml.in/yaml/v2"
)

// lineInMessage finds the "line N" that YAML parsers put in their errors.
var lineInMessage = regexp.MustCompile(`line (\d+)(: |$)`)

// SplitLine separates the "line N: " a YAML error message may carry (after
// the "yaml: " and sigs.k8s.io/yaml "error converting YAML to JSON: "
// prefixes, which it drops) from the rest; the line is 0 when the message
// names none.
func SplitLine(msg string) (int, string) {
	msg = strings.TrimPrefix(msg, "error converting YAML to JSON: ")
	msg = strings.TrimPrefix(msg, "yaml: ")
	if m := lineInMessage.FindStringSubmatchIndex(msg); m != nil {
		n, _ := strconv.Atoi(msg[m[2]:m[3]])
		return n, strings.TrimSpace(msg[:m[0]] + msg[m[1]:])
	}
	return 0, msg
}

// Locate returns the line (1-based, within data) of the syntax error err
// that parsing data gave, and the error's message without its line.
//
// libyaml, which every Go YAML parser ports, reports where the enclosing
// block started (yaml.v3 even the outermost one), often far above the
// mistake. The first prefix of data, in whole lines, that fails with the
// same message ends at the mistake; a binary search finds it in
// log2(lines) parses, so even a large file costs a few dozen parses, never
// one per line. Should the prefixes disagree with the whole (a prefix cut
// inside a multi-line string fails for its own reason), or ctx end before
// the search does, the parser's own line stands.
func Locate(ctx context.Context, data []byte, err error) (int, string) {
	e2 := syntaxError(data)
	if e2 != nil {
		err = e2 // yaml.v2 names the innermost block, closer to the mistake
	}
	line, msg := SplitLine(err.Error())
	if line == 0 {
		line = 1
	}
	if e2 == nil {
		return line, msg // only the other parser fails: its prefixes are not ours to search
	}
	ends := lineEnds(data)
	failsLikeWhole := func(k int) bool { // parse the first k lines
		e := syntaxError(data[:ends[k-1]])
		if e == nil {
			return false
		}
		_, m := SplitLine(e.Error())
		return m == msg
	}
	lo, hi := line, len(ends) // the whole, all hi lines, fails like itself
	if lo > hi {
		return line, msg
	}
	for lo < hi {
		if ctx.Err() != nil {
			return line, msg
		}
		mid := (lo + hi) / 2
		if failsLikeWhole(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, msg
}

// syntaxError parses data with yaml.v2 and returns its syntax error, if
// any. It decodes into an empty struct: every key is skipped, so no value
// is built (decoding a large valid prefix into maps costs several times
// its parse), and a document that is no mapping is a type error, not a
// syntax error.
func syntaxError(data []byte) error {
	var v struct{}
	err := yamlv2.Unmarshal(data, &v)
	var te *yamlv2.TypeError
	if errors.As(err, &te) {
		return nil
	}
	return err
}

// lineEnds returns, for each line of data, the offset just past its end.
func lineEnds(data []byte) []int {
	var ends []int
	for i, b := range data {
		if b == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		ends = append(ends, len(data))
	}
	return ends
}
