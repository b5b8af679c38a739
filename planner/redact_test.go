package planner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	fieldpath "k8s.io/apimachinery/pkg/util/validation/field"
)

// TestRedactError: a redacted error shows no value, cannot be unwrapped to
// the API status that had it, yet still matches sentinels with errors.Is.
// For a Secret with a value too short to scrub, an API error keeps only its
// reason and fields.
func TestRedactError(t *testing.T) {
	r := newRedactor()
	long := ObjectRef{Version: "v1", Kind: "Secret", Namespace: "ns", Name: "long"}
	short := ObjectRef{Version: "v1", Kind: "Secret", Namespace: "ns", Name: "short"}
	r.addSecret(long, map[string]any{"data": map[string]any{"token": b64("hunter2-token")}})
	r.addSecret(short, map[string]any{"data": map[string]any{"pin": b64("42")}})

	denied := apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "long", errors.New("denied: token hunter2-token"))
	err := r.RedactObjectError(long, fmt.Errorf("%s: apply: %w", long, denied))
	if strings.Contains(err.Error(), "hunter2-token") || !strings.Contains(err.Error(), "denied: token ***") {
		t.Errorf("RedactObjectError = %q", err)
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		t.Error("the redacted error unwraps to the API status that holds the value")
	}
	if wrapped := r.RedactError(fmt.Errorf("wait: %w", context.Canceled)); !errors.Is(wrapped, context.Canceled) {
		t.Error("errors.Is does not see context.Canceled through a redacted error")
	}
	if r.RedactError(nil) != nil || r.RedactObjectError(long, nil) != nil {
		t.Error("nil did not stay nil")
	}

	invalid := apierrors.NewInvalid(schema.GroupKind{Kind: "Secret"}, "short", fieldpath.ErrorList{
		fieldpath.Invalid(fieldpath.NewPath("data").Key("pin"), "42", "the pin 42 is too short"),
	})
	got := r.RedactObjectError(short, invalid).Error()
	if strings.Contains(got, "42") || !strings.HasPrefix(got, "Secret/ns/short: the API server rejected the Secret: Invalid: data[pin] (FieldValueInvalid)") {
		t.Errorf("short Secret's error = %q", got)
	}
}
