package planner

import (
	"encoding/base64"
	"sort"
	"strings"
)

// The values a masked Secret shows instead of its data. Live and planned
// side agree on "<secret>" for an unchanged key, so a unified diff shows
// exactly the keys that are added, removed or changed, and nothing else.
const (
	maskUnchanged = "<secret>"
	maskChanged   = "<secret, changed>"
	maskAdded     = "<secret, added>"
	maskRemoved   = "<secret, removed>"
)

// maskSecretPair replaces, in place, every data/stringData value of a live
// and a planned Secret (either may be nil) with a marker saying how the key
// changes. This is the only form in which Secret data leaves the planner:
// no value, no base64 of one, no hash.
func maskSecretPair(live, planned map[string]any) {
	liveData := secretData(live)
	plannedData := secretData(planned)
	if live != nil {
		masked := make(map[string]any, len(liveData))
		for k := range liveData {
			if _, kept := plannedData[k]; kept || planned == nil {
				masked[k] = maskUnchanged
			} else {
				masked[k] = maskRemoved
			}
		}
		setSecretData(live, masked)
	}
	if planned != nil {
		masked := make(map[string]any, len(plannedData))
		for k, v := range plannedData {
			lv, ok := liveData[k]
			switch {
			case live == nil || !ok:
				masked[k] = maskAdded
			case lv == v:
				masked[k] = maskUnchanged
			default:
				masked[k] = maskChanged
			}
		}
		setSecretData(planned, masked)
	}
}

// secretData returns a Secret's values by key as base64 strings, stringData
// folded in (the server never returns stringData, but a rendered object may
// carry it).
func secretData(obj map[string]any) map[string]string {
	out := map[string]string{}
	if obj == nil {
		return out
	}
	if d, ok := obj["data"].(map[string]any); ok {
		for k, v := range d {
			s, _ := v.(string)
			out[k] = s
		}
	}
	if d, ok := obj["stringData"].(map[string]any); ok {
		for k, v := range d {
			s, _ := v.(string)
			out[k] = base64.StdEncoding.EncodeToString([]byte(s))
		}
	}
	return out
}

func setSecretData(obj map[string]any, masked map[string]any) {
	delete(obj, "stringData")
	if len(masked) == 0 {
		delete(obj, "data")
		return
	}
	obj["data"] = masked
}

// minRedactLen is the shortest Secret value scrubbed from free text: shorter
// ones would garble ordinary words. Messages about a Secret that has such a
// short value are rebuilt from structured error fields instead.
const minRedactLen = 4

// redactor scrubs known Secret values (raw and base64) from messages that
// come from elsewhere: API server errors, admission messages, render errors.
type redactor struct {
	values []string // longest first, so a value's prefix never wins
}

func newRedactor() *redactor { return &redactor{} }

// addSecret registers every value of a Secret object. It reports whether
// the Secret has a value too short to scrub reliably.
func (r *redactor) addSecret(obj map[string]any) (hasShort bool) {
	for _, b64 := range secretData(obj) {
		candidates := []string{b64}
		if raw, err := base64.StdEncoding.DecodeString(b64); err == nil {
			candidates = append(candidates, string(raw))
		}
		for _, v := range candidates {
			switch {
			case v == "":
			case len(v) < minRedactLen:
				hasShort = true
			default:
				r.values = append(r.values, v)
			}
		}
	}
	return hasShort
}

func (r *redactor) done() {
	sort.Slice(r.values, func(i, j int) bool { return len(r.values[i]) > len(r.values[j]) })
}

func (r *redactor) redact(s string) string {
	for _, v := range r.values {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, "***")
		}
	}
	return s
}
