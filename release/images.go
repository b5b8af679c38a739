// Package release computes what a promotion changes in a repository's
// files: the Kustomize `images:` entries of one environment copied into
// another's kustomization. It knows nothing of GitHub or Kubernetes; ops
// reads the files and writes the pull request.
package release

import (
	"fmt"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Image is one entry of a kustomization's `images:` list.
type Image struct {
	Name    string `yaml:"name"`
	NewName string `yaml:"newName,omitempty"`
	NewTag  string `yaml:"newTag,omitempty"`
	Digest  string `yaml:"digest,omitempty"`
}

// Ref is how the image is referred to after the change: "newName:newTag",
// "name@digest", …, for titles and bodies.
func (i Image) Ref() string {
	s := i.Name
	if i.NewName != "" {
		s = i.NewName
	}
	if i.NewTag != "" {
		s += ":" + i.NewTag
	}
	if i.Digest != "" {
		s += "@" + i.Digest
	}
	return s
}

// Version is the short form a title shows: the tag, else the digest
// (shortened), else the new name.
func (i Image) Version() string {
	switch {
	case i.NewTag != "":
		return i.NewTag
	case i.Digest != "":
		d := strings.TrimPrefix(i.Digest, "sha256:")
		if len(d) > 12 {
			d = d[:12]
		}
		return "@" + d
	case i.NewName != "":
		return i.NewName
	}
	return "(unchanged)"
}

// ImageChange is one image a promotion changes; Before is the zero Image
// when the entry is new.
type ImageChange struct {
	Before, After Image
}

// imageFields are the keys of an entry a promotion copies, in the order a
// new entry writes them.
var imageFields = []string{"newName", "newTag", "digest"}

func (i Image) field(k string) string {
	switch k {
	case "newName":
		return i.NewName
	case "newTag":
		return i.NewTag
	case "digest":
		return i.Digest
	}
	return ""
}

// ReadImages reads the `images:` entries of a kustomization.
func ReadImages(kustomization []byte) ([]Image, error) {
	var k struct {
		Images []Image `yaml:"images"`
	}
	if err := yaml.Unmarshal(kustomization, &k); err != nil {
		return nil, fmt.Errorf("read images: %w", err)
	}
	return k.Images, nil
}

// SetImages writes images into a kustomization's `images:` list: an entry
// with the same name gets each field from the image (newName, newTag,
// digest — a field the image leaves empty is removed), a missing entry is
// appended, and entries for other images are left alone. The edit is
// guided by the YAML nodes' positions and touches only the lines of the
// values that change (plus lines added), so comments, order, quoting and
// indentation elsewhere stay as they were. It returns the new content and
// the changes; no changes means the content is returned unchanged.
func SetImages(kustomization []byte, images []Image) ([]byte, []ImageChange, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(kustomization, &doc); err != nil {
		return nil, nil, fmt.Errorf("read kustomization: %w", err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("read kustomization: not a YAML mapping")
	}
	root := doc.Content[0]
	current, err := ReadImages(kustomization)
	if err != nil {
		return nil, nil, err
	}
	var changes []ImageChange
	for _, want := range images {
		var before Image
		for _, c := range current {
			if c.Name == want.Name {
				before = c
			}
		}
		if before != want {
			changes = append(changes, ImageChange{Before: before, After: want})
		}
	}
	if len(changes) == 0 {
		return kustomization, nil, nil
	}
	e := &editor{lines: strings.SplitAfter(string(kustomization), "\n")}
	list := mapValue(root, "images")
	switch {
	case list == nil:
		e.appendImagesKey(root, changes)
	case list.Kind != yaml.SequenceNode || list.Style&yaml.FlowStyle != 0:
		return nil, nil, fmt.Errorf("edit images: `images:` is not a block list; write it one entry per line")
	default:
		for _, ch := range changes {
			if err := e.setEntry(list, ch.After); err != nil {
				return nil, nil, err
			}
		}
	}
	out := []byte(e.String())
	// The edit is checked by reading it back: the images must be what was
	// asked for, and everything else the same YAML.
	got, err := ReadImages(out)
	if err != nil {
		return nil, nil, fmt.Errorf("edit images: the result does not parse: %w", err)
	}
	for _, want := range images {
		found := false
		for _, g := range got {
			if g == want {
				found = true
			}
		}
		if !found {
			return nil, nil, fmt.Errorf("edit images: could not set %s", want.Name)
		}
	}
	return out, changes, nil
}

// editor changes whole lines of a file; edits are made bottom-up by line
// number through inserts kept apart from replacements.
type editor struct {
	lines []string
	// inserts after line i (0-based; -1: at the top).
	inserts map[int][]string
}

func (e *editor) String() string {
	var b strings.Builder
	for i, l := range e.lines {
		b.WriteString(l)
		if ins := e.inserts[i]; len(ins) > 0 {
			if !strings.HasSuffix(l, "\n") {
				b.WriteString("\n")
			}
			for _, s := range ins {
				b.WriteString(s)
			}
		}
	}
	return b.String()
}

func (e *editor) insertAfter(line int, s string) {
	if e.inserts == nil {
		e.inserts = map[int][]string{}
	}
	e.inserts[line] = append(e.inserts[line], s)
}

// setEntry updates or appends the entry for img in list.
func (e *editor) setEntry(list *yaml.Node, img Image) error {
	var entry *yaml.Node
	for _, item := range list.Content {
		if item.Kind == yaml.MappingNode {
			if n := mapValue(item, "name"); n != nil && n.Value == img.Name {
				entry = item
			}
		}
	}
	if entry == nil {
		// Appended after the list's last line, indented like its items.
		last := lastLine(list)
		dash := list.Content
		col := 1
		if len(dash) > 0 {
			col = dashColumn(e.lines[dash[0].Line-1], dash[0].Column)
		} else {
			col = list.Column
		}
		e.insertAfter(last-1, entryText(img, strings.Repeat(" ", col-1)))
		return nil
	}
	if entry.Style&yaml.FlowStyle != 0 {
		return fmt.Errorf("edit images: the entry for %s is written in flow style ({...}); write it one key per line", img.Name)
	}
	keyCol := entry.Content[0].Column
	lastKeyLine := lastLine(entry)
	for _, k := range imageFields {
		want := img.field(k)
		keyNode, valNode := mapEntry(entry, k)
		switch {
		case valNode == nil && want == "":
		case valNode == nil:
			e.insertAfter(lastKeyLine-1, fmt.Sprintf("%s%s: %s\n", strings.Repeat(" ", keyCol-1), k, scalar(want, 0)))
		case want == "":
			e.lines[keyNode.Line-1] = "" // the key and its value are on one line
		case valNode.Value != want:
			if valNode.Line != keyNode.Line || valNode.Kind != yaml.ScalarNode {
				return fmt.Errorf("edit images: %s's %s is not a one-line value", img.Name, k)
			}
			e.lines[valNode.Line-1] = replaceValue(e.lines[valNode.Line-1], valNode, scalar(want, valNode.Style))
		}
	}
	return nil
}

// appendImagesKey adds an `images:` list at the end of the kustomization.
func (e *editor) appendImagesKey(root *yaml.Node, changes []ImageChange) {
	var b strings.Builder
	b.WriteString("images:\n")
	for _, ch := range changes {
		b.WriteString(entryText(ch.After, ""))
	}
	last := len(e.lines) - 1
	for last > 0 && e.lines[last] == "" {
		last--
	}
	e.insertAfter(last, b.String())
}

// entryText is a new block entry, "- name: x" then its fields.
func entryText(img Image, indent string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s- name: %s\n", indent, scalar(img.Name, 0))
	for _, k := range imageFields {
		if v := img.field(k); v != "" {
			fmt.Fprintf(&b, "%s  %s: %s\n", indent, k, scalar(v, 0))
		}
	}
	return b.String()
}

// scalar writes a value in the style of the one it replaces: quoted as it
// was, else plain when YAML reads it back as the same string (a tag like
// 1.10 is quoted, or it would read as the number 1.1).
func scalar(v string, style yaml.Style) string {
	switch {
	case style&yaml.DoubleQuotedStyle != 0:
		b, _ := yaml.Marshal(&yaml.Node{Kind: yaml.ScalarNode, Style: yaml.DoubleQuotedStyle, Value: v})
		return strings.TrimSpace(string(b))
	case style&yaml.SingleQuotedStyle != 0:
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	}
	b, _ := yaml.Marshal(v)
	return strings.TrimSpace(string(b))
}

// replaceValue replaces the value token that starts at n's column in line,
// keeping what follows it (a comment, the line end).
func replaceValue(line string, n *yaml.Node, with string) string {
	start := n.Column - 1
	rest := line[start:]
	end := tokenEnd(rest, n.Style)
	return line[:start] + with + rest[end:]
}

// tokenEnd is the length of the scalar token at the start of s.
func tokenEnd(s string, style yaml.Style) int {
	switch {
	case style&yaml.DoubleQuotedStyle != 0:
		for i := 1; i < len(s); i++ {
			if s[i] == '\\' {
				i++
				continue
			}
			if s[i] == '"' {
				return i + 1
			}
		}
	case style&yaml.SingleQuotedStyle != 0:
		for i := 1; i < len(s); i++ {
			if s[i] == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					i++
					continue
				}
				return i + 1
			}
		}
	}
	// Plain: up to " #" or the line end, trailing blanks excluded.
	end := len(strings.TrimRight(s, "\r\n"))
	if i := strings.Index(s, " #"); i >= 0 && i < end {
		end = i
	}
	return len(strings.TrimRight(s[:end], " \t"))
}

// dashColumn finds the column of the "- " that introduces an item whose
// first key is at col on line.
func dashColumn(line string, col int) int {
	i := strings.LastIndex(line[:col-1], "-")
	if i < 0 {
		return col
	}
	return i + 1
}

// lastLine is the last line any part of n is on.
func lastLine(n *yaml.Node) int {
	last := n.Line
	for _, c := range n.Content {
		if l := lastLine(c); l > last {
			last = l
		}
	}
	return last
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	_, v := mapEntry(m, key)
	return v
}

func mapEntry(m *yaml.Node, key string) (k, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}
