package applier

import (
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/kube"
)

// TestApplyRecordsHeadTriggerAndHistory: the ApplySet parent says which
// PR head an apply came from and what triggered it, and keeps the deploys
// newest first — one entry per deploy, its start replaced by its outcome;
// a re-apply that writes nothing adds nothing.
func TestApplyRecordsHeadTriggerAndHistory(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	suffix := hex.EncodeToString(b)
	ns := "rec-" + suffix
	e := newTestEnv(t, "acme/rec-"+suffix, "staging", cluster.RESTConfig())
	e.put("ns.yaml", namespaceYAML(ns))
	e.put("cm.yaml", configMapYAML(ns, "cfg", map[string]string{"v": "1"}))

	res, err := e.apply(ctx, Options{PR: 7, Head: "1111111111111111111111111111111111111111"})
	if err != nil || !res.Converged() {
		t.Fatalf("apply: %v\n%s", err, reportString(res))
	}
	parent := get(t, gvrSecret, kube.SystemNamespace, e.set().ParentName())
	ann := parent.GetAnnotations()
	for k, want := range map[string]string{
		kube.AnnotationLastHead:    "1111111111111111111111111111111111111111",
		kube.AnnotationLastTrigger: kube.TriggerApply,
		kube.AnnotationLastPR:      "7",
		kube.AnnotationLastCommit:  e.in.Commit,
		kube.AnnotationRepository:  e.in.RepoName,
		kube.AnnotationEnvironment: "staging",
	} {
		if ann[k] != want {
			t.Errorf("%s = %q, want %q", k, ann[k], want)
		}
	}
	rec := kube.RecordFrom(&kube.Inventory{Annotations: ann})
	if len(rec.History) != 1 || rec.History[0].Outcome != kube.OutcomeConverged || rec.History[0].PR != 7 || rec.History[0].Digest != res.Plan.Digest {
		t.Fatalf("history after one apply = %+v", rec.History)
	}

	// A merge deploy of a change: no PR head, trigger merge, newest first.
	e.put("cm.yaml", configMapYAML(ns, "cfg", map[string]string{"v": "2"}))
	e.in.Commit = "0000000000000000000000000000000000000002"
	res, err = e.apply(ctx, Options{Trigger: kube.TriggerMerge})
	if err != nil || !res.Converged() {
		t.Fatalf("merge deploy: %v\n%s", err, reportString(res))
	}
	parent = get(t, gvrSecret, kube.SystemNamespace, e.set().ParentName())
	ann = parent.GetAnnotations()
	if _, ok := ann[kube.AnnotationLastHead]; ok || ann[kube.AnnotationLastTrigger] != kube.TriggerMerge {
		t.Errorf("after the merge deploy: head %q, trigger %q", ann[kube.AnnotationLastHead], ann[kube.AnnotationLastTrigger])
	}
	rec = kube.RecordFrom(&kube.Inventory{Annotations: ann})
	if len(rec.History) != 2 || rec.History[0].Commit != e.in.Commit || rec.History[0].Trigger != kube.TriggerMerge ||
		rec.History[1].PR != 7 || rec.History[1].Trigger != kube.TriggerApply {
		t.Fatalf("history = %+v", rec.History)
	}

	// Nothing to write, nothing new to record: the parent is not written.
	before := parent.GetResourceVersion()
	if _, err := e.apply(ctx, Options{Trigger: kube.TriggerMerge}); err != nil {
		t.Fatal(err)
	}
	if after := get(t, gvrSecret, kube.SystemNamespace, e.set().ParentName()).GetResourceVersion(); after != before {
		t.Fatalf("a re-apply of nothing rewrote the parent (resourceVersion %s → %s)", before, after)
	}
}
