package planner

import (
	"errors"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	fieldpath "k8s.io/apimachinery/pkg/util/validation/field"
)

func TestImmutableFields(t *testing.T) {
	structured := apierrors.NewInvalid(schema.GroupKind{Group: "batch", Kind: "Job"}, "j", fieldpath.ErrorList{
		fieldpath.Invalid(fieldpath.NewPath("spec", "template"), "x", "field is immutable"),
		fieldpath.Invalid(fieldpath.NewPath("spec", "selector"), "y", "field is immutable"),
		fieldpath.Required(fieldpath.NewPath("spec", "other"), "needed"),
	})
	if got := strings.Join(immutableFields(structured), ","); got != "spec.selector,spec.template" {
		t.Errorf("structured causes: %q", got)
	}
	// A CEL rule or a webhook only says it in the message.
	cel := &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Reason: metav1.StatusReasonInvalid,
		Message: `Widget.example.com "w" is invalid: spec.size: Invalid value: "integer": size is immutable`}}
	if got := strings.Join(immutableFields(cel), ","); got != "spec.size" {
		t.Errorf("message only: %q", got)
	}
	if got := immutableFields(errors.New("connection refused")); got != nil {
		t.Errorf("not an API error: %v", got)
	}
	quota := apierrors.NewForbidden(schema.GroupResource{Resource: "services"}, "s", errors.New("exceeded quota"))
	if got := immutableFields(quota); got != nil {
		t.Errorf("quota rejection read as immutable: %v", got)
	}
}

func TestIsUnreachable(t *testing.T) {
	if isUnreachable(apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, "x")) {
		t.Error("an answer from the server is not unreachability")
	}
	if isUnreachable(nil) {
		t.Error("nil")
	}
}

func TestReadableDenial(t *testing.T) {
	for in, want := range map[string]string{
		`deployments.apps "web" is forbidden: ValidatingAdmissionPolicy 'team' with binding 'team-b' denied request: needs a team: label`: "denied by the cluster's ValidatingAdmissionPolicy team (binding team-b): needs a team: label",
		`admission webhook "validate.kyverno.svc" denied the request: policy require-labels: label 'app' is required`:                     "denied by the cluster's admission webhook validate.kyverno.svc: policy require-labels: label 'app' is required",
		`admission webhook "v.example.com" denied the request without explanation`:                                                        "denied by the cluster's admission webhook v.example.com: no reason given",
		`Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1`:                                                              `Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1`,
	} {
		if got := readableDenial(in); got != want {
			t.Errorf("readableDenial(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}
