package planner

import (
	"encoding/base64"
	"errors"
	"slices"
	"sort"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// minRedactLen is the shortest Secret value scrubbed from free text: shorter
// ones would garble ordinary words. Messages about a Secret that has such a
// short value are rebuilt from structured error fields instead.
const minRedactLen = 4

// Redactor scrubs known Secret values, raw and base64, from text that comes
// from elsewhere: API server errors, admission messages (a webhook or a
// policy may quote object.data, or oldObject.data: the live values), render
// errors, pod logs. A plan's Redactor knows the values of every Secret the
// plan touched: as rendered, and as read from the cluster. It is safe for
// concurrent use; its zero value knows no values.
//
// It holds Secret values in memory, as the objects to apply do, and never
// shows them: only Redact's input can contain them.
type Redactor struct {
	mu     sync.Mutex
	values []string
	// replacer replaces every value, longest first (so a value's prefix
	// never wins), in one pass over the text however many values there
	// are; nil when values changed since it was built.
	replacer *strings.Replacer
	// short are the Secrets with a value too short to scrub reliably.
	short map[ObjectRef]bool
}

func newRedactor() *Redactor { return &Redactor{} }

// addSecret registers every value of the Secret ref (obj, as rendered or as
// read). It reports whether the Secret has a value too short to scrub.
func (r *Redactor) addSecret(ref ObjectRef, obj map[string]any) (hasShort bool) {
	var add []string
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
				add = append(add, v)
			}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(add) > 0 {
		r.values = append(r.values, add...)
		r.replacer = nil
	}
	if hasShort {
		if r.short == nil {
			r.short = map[ObjectRef]bool{}
		}
		r.short[ref] = true
	}
	return hasShort
}

// hasShort reports whether a Secret ref registered has a value too short
// to scrub from free text.
func (r *Redactor) hasShort(ref ObjectRef) bool {
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.short[ref]
}

// Redact replaces every known Secret value in s with "***".
func (r *Redactor) Redact(s string) string {
	if r == nil || s == "" {
		return s
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.values) == 0 {
		return s
	}
	if r.replacer == nil {
		sort.Slice(r.values, func(i, j int) bool {
			a, b := r.values[i], r.values[j]
			if len(a) != len(b) {
				return len(a) > len(b)
			}
			return a < b
		})
		r.values = slices.Compact(r.values)
		pairs := make([]string, 0, 2*len(r.values))
		for _, v := range r.values {
			pairs = append(pairs, v, "***")
		}
		r.replacer = strings.NewReplacer(pairs...)
	}
	return r.replacer.Replace(s)
}

// RedactError returns err with its text redacted (nil for nil). The result
// does not unwrap to err, since errors.As could then reach the unredacted
// text (an API status's message and causes); errors.Is still sees through
// it, so sentinels such as context.Canceled keep working.
func (r *Redactor) RedactError(err error) error {
	if err == nil {
		return nil
	}
	return &redactedError{msg: r.Redact(err.Error()), cause: err}
}

// RedactObjectError is RedactError for an error about the object ref. The
// API server's answer about a Secret with a value too short to scrub is
// withheld: only its reason and the fields it names are kept.
func (r *Redactor) RedactObjectError(ref ObjectRef, err error) error {
	if err == nil {
		return nil
	}
	var status apierrors.APIStatus
	if r.hasShort(ref) && errors.As(err, &status) {
		return &redactedError{msg: ref.String() + ": " + structuredMessage(err), cause: err}
	}
	return r.RedactError(err)
}

// redactedError is an error whose text had Secret values scrubbed.
type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string { return e.msg }

// Is lets errors.Is match sentinels of the cause without exposing it.
func (e *redactedError) Is(target error) bool { return errors.Is(e.cause, target) }
