package planner

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	fieldpath "k8s.io/apimachinery/pkg/util/validation/field"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestPlanSecretsAreMaskedEverywhere(t *testing.T) {
	f := newFixture(t, cluster)
	f.createNamespace()
	raw := make([]byte, 8)
	_, _ = rand.Read(raw)
	marker := "m4rker" + hex.EncodeToString(raw)
	old, updated, fresh, leaky := marker+"-old", marker+"-new", marker+"-fresh", marker+"-leaky"

	// Applied once with client-side apply, which leaves a copy of every
	// value in an annotation.
	f.apply(fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: upd
  namespace: {{NS}}
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"data":{"token":"%s"},"note":"%s"}'
data:
  token: %s
  kept: %s
  dropped: %s
`, b64(old), old, b64(old), b64(marker+"-kept"), b64(marker+"-dropped")))
	// A policy whose message quotes the Secret's value, as a careless
	// policy author might write it: the planner must still not show it.
	f.applyAs("setup", false, `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: {{NS}}-no-leaky}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: [v1]
      operations: [CREATE, UPDATE]
      resources: [secrets]
  validations:
  - expression: "object.metadata.name != 'leaky'"
    messageExpression: "'refusing token ' + string(object.data.token)"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: {{NS}}-no-leaky}
spec:
  policyName: {{NS}}-no-leaky
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels: {kubernetes.io/metadata.name: {{NS}}}
`)
	head := f.files("deploy/secrets.yaml", fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata: {name: upd, namespace: {{NS}}}
stringData:
  token: %s
  added: %s
data:
  kept: %s
---
apiVersion: v1
kind: Secret
metadata: {name: fresh, namespace: {{NS}}}
data:
  key: %s
---
apiVersion: v1
kind: Secret
metadata: {name: leaky, namespace: {{NS}}}
stringData:
  token: %s
`, updated, marker+"-added", b64(marker+"-kept"), b64(fresh), leaky))

	var p *Plan
	deadline := time.Now().Add(30 * time.Second)
	for {
		p = f.plan(f.env(), head, nil)
		if len(p.Problems) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}

	upd := change(t, p, "Secret", "upd")
	for _, want := range []string{"-  token: <secret>", "+  token: <secret, changed>", "+  added: <secret, added>",
		"-  dropped: <secret, removed>", "   kept: <secret>"} {
		if !strings.Contains(upd.Diff, want) {
			t.Errorf("update diff lacks %q:\n%s", want, upd.Diff)
		}
	}
	if c := change(t, p, "Secret", "fresh"); c.Action != ActionCreate || !strings.Contains(c.Diff, "+  key: <secret, added>") {
		t.Errorf("create of a Secret: %s\n%s", c.Action, c.Diff)
	}
	if len(p.Problems) != 1 || p.Problems[0].Object != "Secret/"+f.ns+"/leaky" ||
		!strings.Contains(p.Problems[0].Message, "refusing token ***") {
		t.Errorf("want the policy's rejection with the value scrubbed, got:\n%s", describe(p))
	}

	// Every output (comments, check runs, bot plan's Markdown and JSON) is
	// made of the plan's fields, so a plan without the values is enough.
	places := map[string]string{
		"plan": fmt.Sprintf("%#v", p),
		"logs": f.logs.String(),
	}
	for where, text := range places {
		for _, v := range []string{marker, b64(old), b64(updated), b64(fresh), b64(leaky), b64(marker + "-kept")} {
			if strings.Contains(text, v) {
				t.Errorf("%s contains a Secret value (%q)", where, v)
			}
		}
	}
	if !strings.Contains(f.logs.String(), "planned") {
		t.Errorf("logs were not captured: %q", f.logs.String())
	}
}

// TestPlanScrubsLiveSecretValues: a policy refusing an update quotes the
// live Secret (oldObject.data, and client-side apply's copy of it in the
// last-applied annotation, in base64). Those values are not in the
// repository, yet they must not reach the plan either.
func TestPlanScrubsLiveSecretValues(t *testing.T) {
	f := newFixture(t, cluster)
	f.createNamespace()
	raw := make([]byte, 8)
	_, _ = rand.Read(raw)
	live := "l1ve" + hex.EncodeToString(raw)
	f.apply(fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: guarded
  namespace: {{NS}}
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"data":{"token":"%s"}}'
data:
  token: %s
`, b64(live), b64(live)))
	f.applyAs("setup", false, `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: {{NS}}-quotes-old}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: [v1]
      operations: [UPDATE]
      resources: [secrets]
  validations:
  - expression: "object.metadata.name != 'guarded'"
    messageExpression: "'will not replace token ' + string(oldObject.data.token) + ' (last applied: ' + oldObject.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'] + ')'"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: {{NS}}-quotes-old}
spec:
  policyName: {{NS}}-quotes-old
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels: {kubernetes.io/metadata.name: {{NS}}}
`)
	head := f.files("deploy/secret.yaml", `apiVersion: v1
kind: Secret
metadata: {name: guarded, namespace: {{NS}}}
stringData:
  token: a-new-value-from-the-pull-request
`)
	// The policy takes effect a moment after it is created.
	var p *Plan
	deadline := time.Now().Add(30 * time.Second)
	for {
		p = f.plan(f.env(), head, nil)
		if len(p.Problems) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	if len(p.Problems) != 1 || p.Problems[0].Object != "Secret/"+f.ns+"/guarded" ||
		!strings.Contains(p.Problems[0].Message, "will not replace token *** (last applied:") {
		t.Fatalf("want the policy's refusal with the live value scrubbed, got:\n%s", describe(p))
	}
	for where, text := range map[string]string{"plan": fmt.Sprintf("%#v", p), "logs": f.logs.String()} {
		for _, v := range []string{live, b64(live)} {
			if strings.Contains(text, v) {
				t.Errorf("%s contains the live Secret value %q:\n%s", where, v, text)
			}
		}
	}
}

func TestPlanSecretOnlyChangeChangesDigest(t *testing.T) {
	f := newFixture(t, cluster)
	f.createNamespace()
	f.apply(`apiVersion: v1
kind: Secret
metadata: {name: s, namespace: {{NS}}}
stringData: {password: zero}
`)
	secret := func(v string) string {
		return "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: {{NS}}}\nstringData: {password: " + v + "}\n"
	}
	one := f.plan(f.env(), f.files("deploy/s.yaml", secret("first-value")), nil)
	oneAgain := f.plan(f.env(), f.files("deploy/s.yaml", secret("first-value")), nil)
	two := f.plan(f.env(), f.files("deploy/s.yaml", secret("second-value")), nil)
	noProblems(t, one)
	noProblems(t, two)
	d1, d2 := change(t, one, "Secret", "s"), change(t, two, "Secret", "s")
	if d1.Diff != d2.Diff || d1.Action != ActionUpdate {
		t.Fatalf("masked diffs should be identical updates:\n%s\n%s", d1.Diff, d2.Diff)
	}
	if one.Digest != oneAgain.Digest {
		t.Errorf("same input, different digests: %s %s", one.Digest, oneAgain.Digest)
	}
	if one.Digest == two.Digest {
		t.Errorf("a Secret value change did not change the digest %s", one.Digest)
	}

	// The digest is keyed: without the key, nobody can test a guess.
	other := *f.planner
	other.DigestKey = []byte("another-key-another-key-another!")
	f.planner = &other
	if again := f.plan(f.env(), f.files("deploy/s.yaml", secret("first-value")), nil); again.Digest == one.Digest {
		t.Errorf("digest does not depend on the key")
	}
}

func TestMaskSecretPair(t *testing.T) {
	live := map[string]any{"data": map[string]any{"same": "YQ==", "changed": "Yg==", "gone": "Yw=="}}
	planned := map[string]any{"data": map[string]any{"same": "YQ==", "changed": "Yg8="}, "stringData": map[string]any{"new": "d"}}
	maskSecretPair(live, planned)
	wantLive := map[string]any{"same": maskUnchanged, "changed": maskUnchanged, "gone": maskRemoved}
	wantPlanned := map[string]any{"same": maskUnchanged, "changed": maskChanged, "new": maskAdded}
	if fmt.Sprint(live["data"]) != fmt.Sprint(wantLive) {
		t.Errorf("live %v, want %v", live["data"], wantLive)
	}
	if fmt.Sprint(planned["data"]) != fmt.Sprint(wantPlanned) || planned["stringData"] != nil {
		t.Errorf("planned %v, want %v and no stringData", planned, wantPlanned)
	}
}

func TestRedactor(t *testing.T) {
	r := newRedactor()
	ref := ObjectRef{Version: "v1", Kind: "Secret", Namespace: "ns", Name: "s"}
	short := r.addSecret(ref, map[string]any{"data": map[string]any{"a": b64("hunter2"), "b": b64("ab")}})
	if !short || !r.hasShort(ref) {
		t.Errorf("a two-byte value was not reported as too short to scrub")
	}
	got := r.Redact("value hunter2 or " + b64("hunter2") + " rejected")
	if strings.Contains(got, "hunter2") || strings.Contains(got, b64("hunter2")) {
		t.Errorf("redact left a value: %q", got)
	}
	// A value that starts another is not what is replaced first: the
	// longer one goes whole. Values added later (a live Secret read after
	// the first Redact) count too, and duplicates do no harm.
	r.addSecret(ref, map[string]any{"data": map[string]any{"long": b64("hunter2-and-more"), "dup": b64("hunter2")}})
	if got := r.Redact("[hunter2-and-more]"); got != "[***]" {
		t.Errorf("Redact = %q, want the longer value replaced whole", got)
	}
	var nilR *Redactor
	if nilR.Redact("x hunter2") != "x hunter2" {
		t.Error("a nil Redactor changed text")
	}
}

func TestStructuredMessageWithholdsFreeText(t *testing.T) {
	err := apierrors.NewInvalid(schema.GroupKind{Kind: "Secret"}, "s", fieldpath.ErrorList{
		fieldpath.Invalid(fieldpath.NewPath("data").Key("pin"), "42", "the pin 42 is too short"),
	})
	msg := structuredMessage(err)
	if strings.Contains(msg, "42") || !strings.Contains(msg, "data[pin] (FieldValueInvalid)") {
		t.Errorf("structuredMessage = %q", msg)
	}
}
