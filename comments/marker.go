package comments

import (
	"fmt"
	"strings"
)

// Marker identifies one comment of a plan comment set: the commit planned
// and the comment's 1-based position in the set. It is the first line of
// every plan comment, as an HTML comment readers never see, so the bot can
// find its set again to edit it in place or to minimize it once outdated.
type Marker struct {
	SHA  string
	Part int
}

const markerPrefix = "<!-- tugboat:plan "

// String renders the marker line, e.g. "<!-- tugboat:plan sha=abc part=2 -->".
func (m Marker) String() string {
	return fmt.Sprintf("%ssha=%s part=%d -->", markerPrefix, markerSHA(m.SHA), m.Part)
}

// markerSHA keeps only hex digits and letters so nothing can end the HTML
// comment early.
func markerSHA(sha string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return -1
	}, sha)
}

// ParseMarker reads the marker from the first line of a comment body. Only
// the first line is looked at: a marker quoted inside a diff further down
// must not make a comment look like one of the bot's.
func ParseMarker(body string) (Marker, bool) {
	line := body
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	rest, ok := strings.CutPrefix(line, markerPrefix)
	if !ok {
		return Marker{}, false
	}
	rest, ok = strings.CutSuffix(rest, " -->")
	if !ok {
		return Marker{}, false
	}
	var m Marker
	if n, err := fmt.Sscanf(rest, "sha=%s part=%d", &m.SHA, &m.Part); err != nil || n != 2 {
		return Marker{}, false
	}
	if m.SHA == "" || m.SHA != markerSHA(m.SHA) || m.Part < 1 || rest != fmt.Sprintf("sha=%s part=%d", m.SHA, m.Part) {
		return Marker{}, false
	}
	return m, true
}
