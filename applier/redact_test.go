package applier

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tugboatops/tugboat/kube"
)

// lockedBuffer collects logs written from the apply's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestApplyRedactsSecretValuesFromApplyTimeRefusals: a policy that acts
// only on real writes (as a webhook with side effects does) refuses to
// write two Secrets, quoting the value sent (object.data), the live value
// (oldObject.data) and client-side apply's base64 copy of it. The plan
// never saw these messages; the apply must not show the values anywhere:
// not in its error, its Result, its progress events, its logs, or the
// record on the ApplySet parent.
func TestApplyRedactsSecretValuesFromApplyTimeRefusals(t *testing.T) {
	logs := &lockedBuffer{}
	ctx := zerolog.New(logs).Level(zerolog.DebugLevel).WithContext(ctxFor(t, 3*time.Minute))
	ns := uniqueName("redact")
	e := newTestEnv(t, "acme/"+ns, "staging", cluster.RESTConfig())
	raw := make([]byte, 8)
	_, _ = rand.Read(raw)
	marker := "m4rker" + hex.EncodeToString(raw)
	live, sent, fresh := marker+"-live", marker+"-sent", marker+"-fresh"

	applyAsAdmin(t, e, namespaceYAML(ns))
	applyAsAdmin(t, e, fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: guarded
  namespace: %s
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"data":{"token":"%s"}}'
data:
  token: %s
`, ns, b64(live), b64(live)))
	applyAsAdmin(t, e, fmt.Sprintf(`apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: %[1]s}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: [v1]
      operations: [CREATE, UPDATE]
      resources: [secrets]
  validations:
  - expression: "request.dryRun == true || !(object.metadata.name in ['guarded', 'fresh', 'probe'])"
    messageExpression: >-
      'refusing token ' + string(object.data.token) + (oldObject == null ? '' :
      ' over ' + string(oldObject.data.token) + ' (last applied: ' +
      oldObject.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'] + ')')
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: %[1]s}
spec:
  policyName: %[1]s
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels: {kubernetes.io/metadata.name: %[1]s}
`, ns))
	waitForPolicy(t, ns)

	e.put("ns.yaml", namespaceYAML(ns))
	e.put("app.yaml", configMapYAML(ns, "app", map[string]string{"color": "blue"}),
		fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: guarded\n  namespace: %s\nstringData:\n  token: %s\n", ns, sent),
		fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: fresh\n  namespace: %s\ndata:\n  token: %s\n", ns, b64(fresh)))
	plan := e.plan(ctx)
	if len(plan.Problems) > 0 {
		t.Fatalf("the policy refuses real writes only, yet the plan has problems: %+v", plan.Problems)
	}

	var mu sync.Mutex
	var events []string
	res, err := e.applier.Apply(ctx, plan.Digest, e.in, Options{Progress: func(ev ProgressEvent) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, fmt.Sprintf("%+v %v", ev, ev.Err))
	}})
	var inc *IncompleteError
	if !errors.As(err, &inc) {
		t.Fatalf("apply error = %v, want an IncompleteError", err)
	}
	// The refusals still say what happened, values scrubbed.
	if !strings.Contains(err.Error(), "refusing token ***") || !strings.Contains(fmt.Sprint(inc.Cause), "refusing token *** over *** (last applied:") {
		t.Errorf("the error does not carry the policy's (scrubbed) refusal: %v", err)
	}
	failed := 0
	for _, w := range res.Writes {
		if w.Outcome == WriteFailed {
			failed++
			if !strings.Contains(w.Error, "refusing token ***") {
				t.Errorf("%s failed with %q, want the scrubbed refusal", w.Ref, w.Error)
			}
		}
	}
	if failed != 2 {
		t.Errorf("%d writes failed, want the two Secrets:\n%s", failed, reportString(res))
	}

	resJSON, jerr := json.Marshal(res)
	if jerr != nil {
		t.Fatal(jerr)
	}
	parent := get(t, gvrSecret, kube.SystemNamespace, e.set().ParentName())
	if parent == nil {
		t.Fatal("no ApplySet parent")
	}
	annJSON, _ := json.Marshal(parent.GetAnnotations())
	if !strings.Contains(parent.GetAnnotations()[kube.AnnotationLastMessage], "refusing token ***") {
		t.Errorf("the parent's %s does not record the refusal: %q", kube.AnnotationLastMessage, parent.GetAnnotations()[kube.AnnotationLastMessage])
	}
	mu.Lock()
	progress := strings.Join(events, "\n")
	mu.Unlock()
	places := map[string]string{
		"error":           err.Error(),
		"result":          string(resJSON),
		"report":          reportString(res),
		"progress events": progress,
		"logs":            logs.String(),
		"parent's record": string(annJSON),
		"IncompleteError": fmt.Sprintf("%+v", *inc),
		"error's cause":   fmt.Sprint(inc.Cause),
	}
	if !strings.Contains(logs.String(), "refusing token ***") {
		t.Errorf("logs were not captured, or lack the refusal:\n%s", logs.String())
	}
	for where, text := range places {
		for _, v := range []string{marker, b64(live), b64(sent), b64(fresh)} {
			if strings.Contains(text, v) {
				t.Errorf("%s contains a Secret value (%q):\n%s", where, v, text)
			}
		}
	}
}

// waitForPolicy waits until the policy refuses a real write in ns:
// admission policies take effect a moment after they are created.
func waitForPolicy(t *testing.T, ns string) {
	t.Helper()
	probe := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": "probe", "namespace": ns},
		"data":     map[string]any{"token": b64("probe-value")},
	}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := adminDynamic(t).Resource(gvrSecret).Namespace(ns).Create(context.Background(), probe, metav1.CreateOptions{})
		if err != nil && strings.Contains(err.Error(), "refusing token") {
			return
		}
		if err == nil {
			_ = adminDynamic(t).Resource(gvrSecret).Namespace(ns).Delete(context.Background(), "probe", metav1.DeleteOptions{})
		}
		if time.Now().After(deadline) {
			t.Fatalf("the admission policy never took effect (last: %v)", err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
