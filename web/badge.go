package web

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"strings"
)

// Badge is what a badge says: shields.io's endpoint schema in JSON, a
// flat shields-style SVG otherwise.
type Badge struct {
	Label, Message string
	// Color is a shields.io colour name (brightgreen, blue, red, orange,
	// lightgrey, blueviolet); the SVG uses its hex value.
	Color string
}

// badgeColors maps states to shields.io colour names and their hex
// values (shields' own, so a badge of ours sits well beside theirs).
var stateColors = map[State]string{
	StateConverged: "brightgreen",
	StateApplying:  "blue",
	StateFailed:    "red",
	StateDrifted:   "orange",
	StateUnknown:   "lightgrey",
	// Not one of the others' hues: a pin is neither good nor bad news,
	// but it is news nobody should mistake for "converged".
	StatePinned: "blueviolet",
}

var colorHex = map[string]string{
	"brightgreen": "#4c1",
	"blue":        "#007ec6",
	"red":         "#e05d44",
	"orange":      "#fe7d37",
	"lightgrey":   "#9f9f9f",
	"blueviolet":  "#8a2be2",
}

// maxLabel caps a label taken from the URL (a 404's environment).
const maxLabel = 64

// badgeOf is env's badge; a nil env is the "not found" badge, which is all
// a request for an unknown repository, environment or a private badge
// without its token gets: the same shape, naming only what was asked.
func badgeOf(envName string, e *EnvState) Badge {
	if e == nil {
		label := envName
		if len(label) > maxLabel {
			label = label[:maxLabel]
		}
		return Badge{Label: label, Message: "not found", Color: "lightgrey"}
	}
	return Badge{Label: e.Env, Message: e.Message(), Color: stateColors[e.State]}
}

// Layout of shields' "flat" style: 20 px high, 5 px padding each side of
// a text, Verdana 11 px drawn at 10x scale for sub-pixel placement.
const (
	badgePad    = 5
	badgeHeight = 20
)

// SVG renders the badge. Text widths come from Verdana's advance widths
// (verdanaWidth); textLength makes a browser without Verdana stretch or
// squeeze its fallback font to the same width, so the text always fills
// its box without overflowing it.
func (b Badge) SVG() []byte {
	lw, mw := textWidth(b.Label), textWidth(b.Message)
	lbox, mbox := lw+2*badgePad, mw+2*badgePad
	total := lbox + mbox
	color := colorHex[b.Color]
	if color == "" {
		color = colorHex["lightgrey"]
	}
	label, msg := xmlText(b.Label), xmlText(b.Message)
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="%s: %s">`, total, badgeHeight, label, msg)
	fmt.Fprintf(&buf, `<title>%s: %s</title>`, label, msg)
	buf.WriteString(`<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`)
	fmt.Fprintf(&buf, `<clipPath id="r"><rect width="%d" height="%d" rx="3" fill="#fff"/></clipPath>`, total, badgeHeight)
	fmt.Fprintf(&buf, `<g clip-path="url(#r)"><rect width="%d" height="%d" fill="#555"/><rect x="%d" width="%d" height="%d" fill="%s"/><rect width="%d" height="%d" fill="url(#s)"/></g>`,
		lbox, badgeHeight, lbox, mbox, badgeHeight, color, total, badgeHeight)
	buf.WriteString(`<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" text-rendering="geometricPrecision" font-size="110">`)
	text := func(x, w int, s string) {
		// A shadow one pixel down, then the text, as shields draws it.
		fmt.Fprintf(&buf, `<text aria-hidden="true" x="%d" y="150" fill="#010101" fill-opacity=".3" transform="scale(.1)" textLength="%d">%s</text>`, x, w*10, s)
		fmt.Fprintf(&buf, `<text x="%d" y="140" transform="scale(.1)" fill="#fff" textLength="%d">%s</text>`, x, w*10, s)
	}
	text(lbox*10/2, lw, label)
	text(lbox*10+mbox*10/2, mw, msg)
	buf.WriteString(`</g></svg>`)
	return buf.Bytes()
}

// xmlText escapes s for XML text and attributes. Characters XML 1.0 does
// not allow even escaped (most control characters, which a URL can carry
// as %01) become U+FFFD, so every badge is a well-formed image.
func xmlText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF {
			return r
		}
		return '\uFFFD'
	}, strings.ToValidUTF8(s, "\uFFFD"))
	return html.EscapeString(s)
}

// textWidth is the width in pixels of s in Verdana 11 px, rounded up.
func textWidth(s string) int {
	var units int
	for _, r := range s {
		units += verdanaWidth(r)
	}
	return int(math.Ceil(float64(units) * 11 / 2048))
}

// verdanaWidth is a character's advance width in Verdana (units of
// 1/2048 em). Written out by hand for printable ASCII — badges hold
// environment names, states and SHAs — rather than pulling in a font
// library for one table; anything else counts as wide as "W" (2037), so
// an unusual character makes its box too wide rather than too narrow.
func verdanaWidth(r rune) int {
	if r >= ' ' && r <= '~' {
		return verdanaASCII[r-' ']
	}
	return 2037
}

var verdanaASCII = [95]int{
	// space ! " # $ % & ' ( ) * + , - . /
	720, 817, 969, 1716, 1302, 2212, 1489, 550, 909, 909, 1302, 1716, 745, 866, 745, 1048,
	// 0-9
	1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302,
	// : ; < = > ? @
	932, 932, 1716, 1716, 1716, 1110, 2048,
	// A-Z
	1401, 1405, 1430, 1577, 1294, 1178, 1587, 1540, 862, 931, 1423, 1145, 1730,
	1526, 1618, 1240, 1618, 1431, 1400, 1250, 1500, 1401, 2037, 1403, 1248, 1403,
	// [ \ ] ^ _ `
	909, 1048, 909, 1716, 1302, 1302,
	// a-z
	1230, 1275, 1068, 1275, 1219, 723, 1275, 1296, 563, 700, 1212, 563, 1992,
	1296, 1247, 1275, 1275, 874, 1067, 807, 1296, 1212, 1675, 1212, 1212, 1072,
	// { | } ~
	1300, 909, 1300, 1716,
}
