package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugboatops/tugboat/internal/githubtest"
)

// webDeployment is a plain two-replica Deployment (no ignore rule on its
// replicas: scaling it by hand is drift).
const webDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: example/web:1
`

// TestDriftIssueFromScalingByHand: the real bot with a short drift
// interval deploys prod on a push to main; someone scales the Deployment
// by hand → a drift issue is opened with the diff and tugboat/drift/prod
// fails; scaled back → the issue is closed and the status succeeds.
func TestDriftIssueFromScalingByHand(t *testing.T) {
	w := newWorld(t, options{extraConfig: "drift: {interval: 2s}\n"})
	t.Cleanup(func() {
		if t.Failed() {
			for _, is := range w.gh.Issues(w.repo) {
				t.Logf("issue #%d %s %q:\n%s", is.Number, is.State, is.Title, is.Body)
			}
		}
	})
	pushed := w.gh.Commit(w.repo, "main", map[string]string{
		".tugboat.yaml":        strings.Replace(baseFiles(w.ns)[".tugboat.yaml"], "    path: deploy/prod\n", "    path: deploy/prod\n    requires: []\n", 1),
		"deploy/prod/web.yaml": webDeployment,
	}, "add web")
	w.waitStatus(pushed, "tugboat/apply/prod", "success", 2*time.Minute)
	w.waitStatus(pushed, "tugboat/drift/prod", "success", time.Minute)

	scale := func(n int) {
		t.Helper()
		patch := fmt.Sprintf(`{"spec": {"replicas": %d}}`, n)
		if _, err := prod.Client().AppsV1().Deployments(w.ns).Patch(context.Background(), "web", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	scale(5)
	var issue githubtest.Issue
	w.waitFor("a drift issue", time.Minute, func() bool {
		for _, is := range w.gh.Issues(w.repo) {
			if is.State == "open" {
				issue = is
				return true
			}
		}
		return false
	})
	if want := "Drift in prod: 1 object differs from main@" + pushed[:7]; issue.Title != want ||
		len(issue.Labels) != 1 || issue.Labels[0] != "tugboat/drift" {
		t.Errorf("issue %q %v, want %q labelled tugboat/drift", issue.Title, issue.Labels, want)
	}
	for _, want := range []string{"Deployment " + w.ns + "/web", "-  replicas: 5", "+  replicas: 2"} {
		if !strings.Contains(issue.Body, want) {
			t.Errorf("issue body lacks %q:\n%s", want, issue.Body)
		}
	}
	// The issue is opened first, then the status linking it is posted.
	w.waitDriftStatus(pushed, "failure")

	// Several more rounds while drifted: still one issue, one failure.
	time.Sleep(5 * time.Second)
	scale(2)
	w.waitFor("the drift issue closed", time.Minute, func() bool {
		iss := w.gh.Issues(w.repo)
		return len(iss) == 1 && iss[0].State == "closed"
	})
	cs := w.gh.Comments(w.repo, issue.Number)
	if len(cs) == 0 || !strings.Contains(cs[len(cs)-1].Body, "No more drift in `prod`") {
		t.Errorf("closing comment missing: %+v", cs)
	}
	w.waitDriftStatus(pushed, "success")
	var drift []string
	for _, s := range w.gh.Statuses(w.repo, pushed) {
		if s.Context == "tugboat/drift/prod" {
			drift = append(drift, s.State)
		}
	}
	if strings.Join(drift, ",") != "success,failure,success" {
		t.Errorf("tugboat/drift/prod statuses = %v, want one per change of state", drift)
	}
}

// waitDriftStatus waits until the newest tugboat/drift/prod on sha is
// state (a drift round reports the issue first, then the status).
func (w *world) waitDriftStatus(sha, state string) {
	w.t.Helper()
	w.waitFor("tugboat/drift/prod "+state, time.Minute, func() bool {
		var newest *githubtest.Status
		for _, s := range w.gh.Statuses(w.repo, sha) {
			if s.Context == "tugboat/drift/prod" && (newest == nil || s.ID > newest.ID) {
				s := s
				newest = &s
			}
		}
		return newest != nil && newest.State == state
	})
}

// TestDriftHealedForApplyAuto: an `apply: auto` environment scaled by hand
// is healed by the real bot: the Deployment is back at its replicas, the
// drift issue says what was healed and is closed as healed, and the heal
// is reported like any apply (tugboat/apply/prod, a GitHub Deployment).
func TestDriftHealedForApplyAuto(t *testing.T) {
	w := newWorld(t, options{extraConfig: "drift: {interval: 2s}\n"})
	t.Cleanup(func() {
		if t.Failed() {
			for _, is := range w.gh.Issues(w.repo) {
				t.Logf("issue #%d %s %q:\n%s", is.Number, is.State, is.Title, is.Body)
			}
		}
	})
	pushed := w.gh.Commit(w.repo, "main", map[string]string{
		".tugboat.yaml":        strings.Replace(baseFiles(w.ns)[".tugboat.yaml"], "    path: deploy/prod\n", "    path: deploy/prod\n    apply: auto\n    requires: []\n", 1),
		"deploy/prod/web.yaml": webDeployment,
	}, "add web")
	w.waitStatus(pushed, "tugboat/apply/prod", "success", 2*time.Minute)
	w.waitDriftStatus(pushed, "success")
	deploys := len(w.gh.Deployments(w.repo))

	patch := `{"spec": {"replicas": 4}}`
	if _, err := prod.Client().AppsV1().Deployments(w.ns).Patch(context.Background(), "web", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	w.waitFor("the drift healed and its issue closed", 2*time.Minute, func() bool {
		iss := w.gh.Issues(w.repo)
		return len(iss) == 1 && iss[0].State == "closed"
	})
	d, err := prod.Client().AppsV1().Deployments(w.ns).Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *d.Spec.Replicas != 2 {
		t.Errorf("web has %d replicas after the heal, want 2", *d.Spec.Replicas)
	}
	is := w.gh.Issues(w.repo)[0]
	var all string
	for _, c := range w.gh.Comments(w.repo, is.Number) {
		all += c.Body + "\n"
	}
	for _, want := range []string{"prod: healed", "tugboat healed it (`apply: auto`)"} {
		if !strings.Contains(all, want) {
			t.Errorf("the drift issue's comments lack %q:\n%s", want, all)
		}
	}
	if got := len(w.gh.Deployments(w.repo)); got != deploys+1 {
		t.Errorf("%d GitHub Deployments after the heal, want %d", got, deploys+1)
	}
	w.waitDriftStatus(pushed, "success")
	var apply []string
	for _, s := range w.gh.Statuses(w.repo, pushed) {
		if s.Context == "tugboat/apply/prod" {
			apply = append(apply, s.State)
		}
	}
	if strings.Join(apply, ",") != "pending,success,pending,success" {
		t.Errorf("tugboat/apply/prod statuses = %v, want the deploy's then the heal's", apply)
	}
}
