package config

import (
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// key is one key of a .tugboat.yaml mapping: its name, how to read it, and
// its documentation. The tables (repoKeys, envKeys) are the one place a key
// is named: the unknown-key message, the missing-key check and the README's
// reference tables (kept equal by TestREADMEDocumentsEveryKey) all follow
// from them, so adding a key is adding a row.
type key[T any] struct {
	name string
	// def is the default as the README shows it (Markdown); unused for
	// required keys.
	def string
	// doc is the README's one-line meaning (Markdown, no '|').
	doc string
	// required keys are reported when missing, and an empty (null) value is
	// an error; an optional key left empty keeps its default.
	required bool
	// hint follows "missing" in the message for an absent required key.
	hint string
	// read reads the value, reporting problems at their lines. at is the
	// dotted path of the key ("environments.staging.apply").
	read func(p *problems, f entry, at string, into T)
}

// readKeys reads mapping m with the keys of table, into into. where is m's
// dotted path ("" at the top level) and line the line missing keys are
// reported at. The line of every key read is recorded in lines under its
// dotted path.
func readKeys[T any](p *problems, m *yaml.Node, where string, line int, table []key[T], into T, lines map[string]int) {
	seen := map[string]bool{}
	for _, f := range p.mappingEntries(m, where) {
		k, ok := findKey(table, f.key)
		if !ok {
			p.add(f.line, "%sunknown key %q (want %s)", prefix(where), f.key, keyNames(table))
			continue
		}
		seen[k.name] = true
		at := join(where, f.key)
		lines[at] = f.line
		if isNull(f.value) && !k.required {
			continue // an empty optional setting keeps its default
		}
		k.read(p, f, at, into)
	}
	for _, k := range table {
		if k.required && !seen[k.name] {
			msg := "missing"
			if k.hint != "" {
				msg += " (" + k.hint + ")"
			}
			p.add(line, "%s%s: %s", prefix(where), k.name, msg)
		}
	}
}

func findKey[T any](table []key[T], name string) (key[T], bool) {
	for _, k := range table {
		if k.name == name {
			return k, true
		}
	}
	return key[T]{}, false
}

// keyNames lists a table's keys for a message: "a, b or c".
func keyNames[T any](table []key[T]) string {
	names := make([]string, len(table))
	for i, k := range table {
		names[i] = k.name
	}
	return orList(names)
}

// orList joins words as "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// prefix is where, as the start of a message ("environments.staging: ").
func prefix(where string) string {
	if where == "" {
		return ""
	}
	return where + ": "
}
