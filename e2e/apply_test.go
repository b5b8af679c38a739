package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugboatops/tugboat/internal/githubtest"
	"github.com/tugboatops/tugboat/internal/kubetest"
)

// The whole loop a user sees: approve, `/apply staging`, staging converged
// with the PR's content, reported as a status, a Deployment, a check run
// and a comment, and locked to the PR; `/apply` again is "already
// applied"; the merge deploys prod at the merged commit and frees the lock.
func TestApplyOnCommentThenMergeDeploys(t *testing.T) {
	w := newWorld(t, options{})
	w.gh.SetPermission(w.repo, "carol", "write")
	n, sha := w.openPR("release", map[string]string{
		"deploy/staging/app.yaml": configMap("app", "color", "green"),
		"deploy/prod/app.yaml":    configMap("app", "color", "green"),
	})
	w.waitPlanned(sha, "staging", "prod")
	w.gh.Approve(w.repo, n, "carol")
	w.gh.Comment(w.repo, n, "alice", "/apply staging")
	w.waitStatus(sha, "tugboat/apply/staging", "success", 2*time.Minute)

	if got := w.configMapValue(staging, "app", "color"); got != "green" {
		t.Errorf("staging's ConfigMap color = %q, want green", got)
	}
	if got := w.configMapValue(prod, "app", "color"); got != "" {
		t.Errorf("prod changed before the merge: color = %q", got)
	}
	if holder := w.lockHolder(staging, "staging"); holder != w.repo+"#1" {
		t.Errorf("staging's lock holder = %q, want %s#1", holder, w.repo)
	}
	run := w.checks(sha)["tugboat/staging"]
	if run.Conclusion != "success" {
		t.Errorf("newest tugboat/staging run = %s %q, want success", run.Conclusion, run.Title)
	}
	deps := w.gh.Deployments(w.repo)
	if len(deps) != 1 || deps[0].Environment != "staging" || deps[0].Ref != sha {
		t.Errorf("deployments = %+v, want one of staging at the head", deps)
	}
	result := allBodies(w.botComments(n))
	if !strings.Contains(result, "staging") || !strings.Contains(result, "ConfigMap") {
		t.Errorf("no result comment naming staging and the ConfigMap:\n%s", result)
	}

	before := len(w.botComments(n))
	w.gh.Comment(w.repo, n, "alice", "/apply staging")
	w.waitFor("the reply to a repeated /apply", time.Minute, func() bool { return len(w.botComments(n)) > before })
	if reply := w.botComments(n)[len(w.botComments(n))-1].Body; !strings.Contains(strings.ToLower(reply), "already applied") {
		t.Errorf("reply to the repeated /apply = %q", reply)
	}

	merged := w.gh.Merge(w.repo, n, "alice")
	w.waitStatus(merged, "tugboat/apply/prod", "success", 2*time.Minute)
	if got := w.configMapValue(prod, "app", "color"); got != "green" {
		t.Errorf("prod after the merge: color = %q, want green", got)
	}
	w.waitFor("the lock released after the merge deploy", time.Minute, func() bool { return w.lockHolder(staging, "staging") == "" })
}

// An apply the actor may not make, or that lacks approval, is refused with
// a reply and writes nothing to the cluster; the Apply button applies as
// whoever pressed it.
func TestApplyRefusedThenButton(t *testing.T) {
	w := newWorld(t, options{})
	w.gh.SetPermission(w.repo, "carol", "write")
	w.gh.SetPermission(w.repo, "dave", "read")
	n, sha := w.openPR("release", map[string]string{"deploy/staging/app.yaml": configMap("app", "color", "green")})
	checks := w.waitPlanned(sha, "staging")

	for _, c := range []struct{ who, want string }{{"dave", "dave"}, {"alice", "approval"}} {
		before := len(w.botComments(n))
		w.gh.Comment(w.repo, n, c.who, "/apply staging")
		w.waitFor("a refusal for "+c.who, time.Minute, func() bool { return len(w.botComments(n)) > before })
		if reply := w.botComments(n)[len(w.botComments(n))-1].Body; !strings.Contains(reply, c.want) {
			t.Errorf("refusal for %s lacks %q:\n%s", c.who, c.want, reply)
		}
	}
	if got := w.configMapValue(staging, "app", "color"); got != "" {
		t.Fatalf("a refused apply wrote to staging: color = %q", got)
	}
	if holder := w.lockHolder(staging, "staging"); holder != "" {
		t.Fatalf("a refused apply left a lock held by %q", holder)
	}

	w.gh.Approve(w.repo, n, "carol")
	w.gh.RequestAction(w.repo, checks["tugboat/staging"].ID, "apply", "carol")
	w.waitStatus(sha, "tugboat/apply/staging", "success", 2*time.Minute)
	if got := w.configMapValue(staging, "app", "color"); got != "green" {
		t.Errorf("the Apply button did not apply: color = %q", got)
	}
}

// Closing an applied PR without merging brings staging back to main.
func TestClosedWithoutMergeReverts(t *testing.T) {
	w := newWorld(t, options{})
	w.gh.SetPermission(w.repo, "carol", "write")
	n, sha := w.openPR("release", map[string]string{"deploy/staging/app.yaml": configMap("app", "color", "green")})
	w.waitPlanned(sha, "staging")
	w.gh.Approve(w.repo, n, "carol")
	w.gh.Comment(w.repo, n, "alice", "/apply staging")
	w.waitStatus(sha, "tugboat/apply/staging", "success", 2*time.Minute)
	w.gh.ClosePR(w.repo, n, "alice")
	w.waitFor("staging reverted to main", 2*time.Minute, func() bool { return w.configMapValue(staging, "app", "color") == "blue" })
	w.waitFor("the lock released", time.Minute, func() bool { return w.lockHolder(staging, "staging") == "" })
	w.waitFor("the revert comment", time.Minute, func() bool {
		return strings.Contains(strings.ToLower(allBodies(w.botComments(n))), "revert")
	})
}

// waitStatus waits for the newest status of context on sha to be state.
func (w *world) waitStatus(sha, context, state string, timeout time.Duration) {
	w.t.Helper()
	var last string
	deadline := time.Now().Add(timeout)
	for {
		var newest *githubtest.Status
		for _, s := range w.gh.Statuses(w.repo, sha) {
			if s.Context == context && (newest == nil || s.ID > newest.ID) {
				s := s
				newest = &s
			}
		}
		if newest != nil {
			last = newest.State + ": " + newest.Description
			if newest.State == state {
				return
			}
			if newest.State != "pending" {
				w.t.Fatalf("status %s on %s is %s, want %s", context, sha[:7], last, state)
			}
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("timed out waiting for status %s = %s on %s (last: %q); comments:\n%s", context, state, sha[:7], last, allBodies(w.botComments(1)))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// configMapValue reads a key of the test's ConfigMap in a cluster ("" when
// the ConfigMap does not exist).
func (w *world) configMapValue(c *kubetest.Cluster, name, key string) string {
	w.t.Helper()
	cm, err := c.Client().CoreV1().ConfigMaps(w.ns).Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return ""
	}
	if err != nil {
		w.t.Fatalf("read ConfigMap %s/%s in %s: %v", w.ns, name, c.Name(), err)
	}
	return cm.Data[key]
}

// lockHolder is the holder of the environment's PR lock ("" when none),
// read as a person would: the Leases in tugboat-system.
func (w *world) lockHolder(c *kubetest.Cluster, env string) string {
	w.t.Helper()
	leases, err := c.Client().CoordinationV1().Leases("tugboat-system").List(context.Background(), metav1.ListOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		w.t.Fatalf("list leases in %s: %v", c.Name(), err)
	}
	var out []coordinationv1.Lease
	if leases != nil {
		out = leases.Items
	}
	for _, l := range out {
		if strings.HasPrefix(l.Name, "tugboat-lock-"+env+"-") && l.Spec.HolderIdentity != nil &&
			strings.HasPrefix(*l.Spec.HolderIdentity, w.repo+"#") {
			return *l.Spec.HolderIdentity
		}
	}
	return ""
}

// With a merge queue that requires tugboat's checks, an applied PR goes
// through the queue: the bot reports tugboat/<env> on the group's commit,
// the queue merges it, and the push deploys prod.
func TestMergeQueueRunsTugboatChecks(t *testing.T) {
	w := newWorld(t, options{})
	w.gh.SetPermission(w.repo, "carol", "write")
	w.gh.AddRuleset(w.repo, githubtest.Ruleset{Name: "queue", Branches: []string{"main"},
		RequiredChecks: []string{"tugboat/staging", "tugboat/prod"}, MergeQueue: &githubtest.MergeQueue{}})
	n, sha := w.openPR("release", map[string]string{
		"deploy/staging/app.yaml": configMap("app", "color", "green"),
		"deploy/prod/app.yaml":    configMap("app", "color", "green"),
	})
	w.waitPlanned(sha, "staging", "prod")
	prodRuns := w.countChecks(sha, "tugboat/prod")
	w.gh.Approve(w.repo, n, "carol")
	// The review re-plans prod, whose run now shows its approval is met.
	w.waitFor("prod's gate re-evaluated after the approval", time.Minute, func() bool {
		c := w.checks(sha)["tugboat/prod"]
		return w.countChecks(sha, "tugboat/prod") > prodRuns && c.Status == "completed" && c.Conclusion == "success"
	})
	w.gh.Comment(w.repo, n, "alice", "/apply staging")
	w.waitStatus(sha, "tugboat/apply/staging", "success", 2*time.Minute)
	w.gh.EnqueuePR(w.repo, n, "alice")
	w.waitFor("the queue merged the PR", 2*time.Minute, func() bool { return w.gh.PR(w.repo, n).Merged })
	merged := w.gh.HeadSHA(w.repo, "main")
	w.waitStatus(merged, "tugboat/apply/prod", "success", 2*time.Minute)
	if got := w.configMapValue(prod, "app", "color"); got != "green" {
		t.Errorf("prod after the queue merged: color = %q", got)
	}
}
