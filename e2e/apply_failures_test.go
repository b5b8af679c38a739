package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugboatops/tugboat/internal/githubtest"
	"github.com/tugboatops/tugboat/internal/kubetest"
)

// Bad input and failures of applying from GitHub (issue 11), each as a
// user meets it: the reply, the statuses, the runs, the Deployments, the
// cluster, the locks.

// heldDeployment is a Deployment whose pod can be scheduled only on a Node
// labelled holdLabel(ns): until the test labels one (release), its apply
// waits for convergence — an apply that is reliably "in the middle".
func heldDeployment(ns string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      nodeSelector: {%q: "yes"}
      containers:
        - name: web
          image: example/web:1
`, holdLabel(ns))
}

func holdLabel(ns string) string { return "e2e.tugboat.dev/" + ns }

// release lets the held Deployment's pod be scheduled: a Node of c gets
// the test's label (taken off again when the test ends).
func (w *world) release(c *kubetest.Cluster) {
	w.t.Helper()
	ctx := context.Background()
	nodes, err := c.Client().CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil || len(nodes.Items) == 0 {
		w.t.Fatalf("list nodes of %s: %v", c.Name(), err)
	}
	node := nodes.Items[0].Name
	label := func(value any) {
		patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"labels": map[string]any{holdLabel(w.ns): value}}})
		if _, err := c.Client().CoreV1().Nodes().Patch(ctx, node, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			w.t.Errorf("label node %s of %s: %v", node, c.Name(), err)
		}
	}
	label("yes")
	w.t.Cleanup(func() { label(nil) })
}

// deploymentExists reports whether Deployment name is in the test's
// namespace of c.
func (w *world) deploymentExists(c *kubetest.Cluster, name string) bool {
	_, err := c.Client().AppsV1().Deployments(w.ns).Get(context.Background(), name, metav1.GetOptions{})
	return err == nil
}

// newestStatus is the newest status of context on sha (nil: none).
func (w *world) newestStatus(sha, context string) *githubtest.Status {
	var newest *githubtest.Status
	for _, s := range w.gh.Statuses(w.repo, sha) {
		if s.Context == context && (newest == nil || s.ID > newest.ID) {
			s := s
			newest = &s
		}
	}
	return newest
}

// waitStatusAfter waits for a status of context on sha newer than afterID
// in state, failing at once on a newer one in another final state.
func (w *world) waitStatusAfter(sha, context string, afterID int64, state string, timeout time.Duration) githubtest.Status {
	w.t.Helper()
	var last githubtest.Status
	w.waitFor(fmt.Sprintf("status %s = %s on %.7s", context, state, sha), timeout, func() bool {
		st := w.newestStatus(sha, context)
		if st == nil || st.ID <= afterID {
			return false
		}
		last = *st
		if st.State != state && st.State != "pending" {
			w.t.Fatalf("status %s on %.7s is %s %q, want %s", context, sha, st.State, st.Description, state)
		}
		return st.State == state
	})
	return last
}

// runByID is sha's check run id as it stands.
func (w *world) runByID(sha string, id int64) githubtest.CheckRun {
	w.t.Helper()
	for _, r := range w.gh.CheckRuns(w.repo, sha) {
		if r.ID == id {
			return r
		}
	}
	w.t.Fatalf("no check run %d on %.7s", id, sha)
	return githubtest.CheckRun{}
}

// record is the annotations of the environment's ApplySet parent in c,
// found as a person would: the Secret in tugboat-system that names the
// repository and environment.
func (w *world) record(c *kubetest.Cluster, env string) map[string]string {
	w.t.Helper()
	list, err := c.Client().CoreV1().Secrets("tugboat-system").List(context.Background(), metav1.ListOptions{LabelSelector: "applyset.kubernetes.io/id"})
	if err != nil && !apierrors.IsNotFound(err) {
		w.t.Fatalf("list ApplySet parents in %s: %v", c.Name(), err)
	}
	for _, s := range list.Items {
		if s.Annotations["tugboat.dev/repository"] == w.repo && s.Annotations["tugboat.dev/environment"] == env {
			return s.Annotations
		}
	}
	return nil
}

// replyAfter waits for the bot's first comment on n after the first
// `before` of them, and returns it.
func (w *world) replyAfter(n, before int, what string) string {
	w.t.Helper()
	w.waitFor(what, time.Minute, func() bool { return len(w.botComments(n)) > before })
	return w.botComments(n)[before].Body
}

// inProgress lists what is still pending or in progress on sha: check runs
// and the newest status of each context.
func (w *world) inProgress(sha string) []string {
	var out []string
	for _, r := range w.gh.CheckRuns(w.repo, sha) {
		if r.Status != "completed" {
			out = append(out, fmt.Sprintf("run %s (%d) %s", r.Name, r.ID, r.Status))
		}
	}
	newest := map[string]githubtest.Status{}
	for _, s := range w.gh.Statuses(w.repo, sha) {
		if cur, ok := newest[s.Context]; !ok || s.ID > cur.ID {
			newest[s.Context] = s
		}
	}
	for c, s := range newest {
		if s.State == "pending" {
			out = append(out, "status "+c+" pending")
		}
	}
	return out
}

// applyHeld opens a PR adding the held Deployment to staging, approves it,
// comments /apply staging and waits until the apply is in the middle: its
// status pending, its run and GitHub Deployment in progress, the
// Deployment written to the cluster. It returns the PR, its head and the
// apply's run.
func (w *world) applyHeld() (int, string, githubtest.CheckRun) {
	w.t.Helper()
	w.gh.SetPermission(w.repo, "carol", "write")
	n, sha := w.openPR("slow", map[string]string{"deploy/staging/web.yaml": heldDeployment(w.ns)})
	plan := w.waitPlanned(sha, "staging")["tugboat/staging"]
	w.gh.Approve(w.repo, n, "carol")
	w.gh.Comment(w.repo, n, "alice", "/apply staging")
	var run githubtest.CheckRun
	w.waitFor("the apply to be waiting for the Deployment", 2*time.Minute, func() bool {
		st := w.newestStatus(sha, "tugboat/apply/staging")
		run = w.checks(sha)["tugboat/staging"]
		deps := w.gh.Deployments(w.repo)
		return st != nil && st.State == "pending" && run.ID != plan.ID && run.Status == "in_progress" &&
			len(deps) == 1 && deps[0].State() == "in_progress" && w.deploymentExists(staging, "web")
	})
	return n, sha, run
}

// A bot killed (SIGKILL) mid-apply leaves its run, status and Deployment in
// progress; the bot started after it concludes them as interrupted (once
// the dead process's apply mutex has lapsed), records the failure, keeps
// the PR's lock and plans staging again — and `/apply staging` then
// converges.
func TestApplyKilledMidApplyConcludedOnRestart(t *testing.T) {
	w := newWorld(t, options{})
	n, sha, run := w.applyHeld()
	if rec := w.record(staging, "staging"); rec["tugboat.dev/last-apply-outcome"] != "in-progress" {
		t.Fatalf("record during the apply = %q, want in-progress", rec["tugboat.dev/last-apply-outcome"])
	}

	start := time.Now()
	stage := func(what string) { t.Logf("%5.1fs %s", time.Since(start).Seconds(), what) }
	if err := w.bot.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-w.bot.done
	if left := w.inProgress(sha); len(left) != 2 {
		t.Fatalf("after the kill, in progress: %v; want the apply's run and status", left)
	}
	pending := w.newestStatus(sha, "tugboat/apply/staging")

	w.bot = launchBot(t, w.bot.url, w.bot.config)
	stage("restarted")
	st := w.waitStatusAfter(sha, "tugboat/apply/staging", pending.ID, "error", 2*time.Minute)
	if !strings.Contains(st.Description, "interrupted") || !strings.Contains(st.Description, "/apply staging") {
		t.Errorf("status after the restart = %q, want interrupted — /apply staging", st.Description)
	}
	// The record is concluded last, once GitHub is.
	w.waitFor("the record concluded", 30*time.Second, func() bool {
		return w.record(staging, "staging")["tugboat.dev/last-apply-outcome"] == "failed"
	})
	stage("concluded")
	if r := w.runByID(sha, run.ID); r.Status != "completed" || r.Conclusion != "failure" || r.Title != "Interrupted — /apply again" {
		t.Errorf("the apply's run = %s %s %q, want completed failure, Interrupted — /apply again", r.Status, r.Conclusion, r.Title)
	}
	deps := w.gh.Deployments(w.repo)
	if len(deps) != 1 || deps[0].State() != "error" || !strings.Contains(deps[0].Statuses[len(deps[0].Statuses)-1].Description, "interrupted") {
		t.Errorf("deployments = %+v, want the apply's concluded as interrupted", deps)
	}
	if msg := w.record(staging, "staging")["tugboat.dev/last-apply-message"]; msg != "interrupted — /apply again" {
		t.Errorf("record message = %q", msg)
	}
	if holder := w.lockHolder(staging, "staging"); holder != fmt.Sprintf("%s#%d", w.repo, n) {
		t.Errorf("lock holder after the restart = %q, want the PR", holder)
	}
	var replan githubtest.CheckRun
	w.waitFor("staging planned again", time.Minute, func() bool {
		replan = w.checks(sha)["tugboat/staging"]
		return replan.ID > run.ID && replan.Status == "completed"
	})
	if left := w.inProgress(sha); len(left) > 0 {
		t.Errorf("still in progress after the restart: %v", left)
	}

	stage("planned again")
	w.release(staging)
	concluded := w.newestStatus(sha, "tugboat/apply/staging")
	w.gh.Comment(w.repo, n, "alice", "/apply staging")
	w.waitStatusAfter(sha, "tugboat/apply/staging", concluded.ID, "success", 2*time.Minute)
	stage("applied again")
	if rec := w.record(staging, "staging"); rec["tugboat.dev/last-apply-outcome"] != "converged" {
		t.Errorf("record after the re-apply = %q, want converged", rec["tugboat.dev/last-apply-outcome"])
	}
	if left := w.inProgress(sha); len(left) > 0 {
		t.Errorf("in progress after the re-apply: %v", left)
	}
}

// The API server going away mid-apply fails the apply with the reason, on
// the status, the run, the Deployment and the result comment; the PR keeps
// its lock.
func TestApplyAPIServerDown(t *testing.T) {
	w := newWorld(t, options{})
	n, sha, run := w.applyHeld()
	pending := w.newestStatus(sha, "tugboat/apply/staging")
	if err := staging.Stop(); err != nil {
		t.Fatal(err)
	}
	restarted := false
	restart := func() {
		if restarted {
			return
		}
		restarted = true
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if err := staging.Restart(ctx); err != nil {
			t.Fatalf("restart staging's API server: %v", err)
		}
	}
	t.Cleanup(restart)
	// The apply mutex cannot be renewed either: once its renew deadline
	// has passed, the apply stops. The API server comes back then, so the
	// cluster's controllers (which back off while it is away) are soon
	// back too, for the tests after this one.
	w.waitFor("the apply mutex lost", time.Minute, func() bool { return strings.Contains(w.bot.logs.String(), "lost the apply mutex") })
	restart()

	const reason = "cluster staging did not answer"
	st := w.waitStatusAfter(sha, "tugboat/apply/staging", pending.ID, "failure", 2*time.Minute)
	if !strings.Contains(st.Description, reason) {
		t.Errorf("status = %q, want the reason %q", st.Description, reason)
	}
	// The result comment is the report's last write.
	w.waitFor("the result comment saying why", time.Minute, func() bool { return strings.Contains(allBodies(w.botComments(n)), reason) })
	if r := w.runByID(sha, run.ID); r.Status != "completed" || r.Conclusion != "failure" || !strings.Contains(r.Title+r.Summary, reason) {
		t.Errorf("the apply's run = %s %s %q:\n%s", r.Status, r.Conclusion, r.Title, r.Summary)
	}
	if deps := w.gh.Deployments(w.repo); len(deps) != 1 || deps[0].State() != "failure" {
		t.Errorf("deployments = %+v, want the apply's failed", deps)
	}
	if holder := w.lockHolder(staging, "staging"); holder != fmt.Sprintf("%s#%d", w.repo, n) {
		t.Errorf("lock holder after the failure = %q, want kept by the PR", holder)
	}
	if left := w.inProgress(sha); len(left) > 0 {
		t.Errorf("still in progress after the failure: %v", left)
	}
	// The scheduler, controllers and kwok are back once the held pod can
	// run: the next test gets a working cluster.
	w.release(staging)
	w.waitFor("staging's controllers back (the held Deployment available)", 3*time.Minute, func() bool {
		d, err := staging.Client().AppsV1().Deployments(w.ns).Get(context.Background(), "web", metav1.GetOptions{})
		return err == nil && d.Status.AvailableReplicas == 1
	})
}

// GitHub answering 5xx to the status writes of an apply: the bot retries,
// and the pending and final statuses both land.
func TestApplyRetriesStatusWrites(t *testing.T) {
	w := newWorld(t, options{})
	w.gh.SetPermission(w.repo, "carol", "write")
	n, sha := w.openPR("flaky", map[string]string{"deploy/staging/app.yaml": configMap("app", "color", "green")})
	w.waitPlanned(sha, "staging")
	w.gh.Approve(w.repo, n, "carol")
	// Three failures: the pending status's first three tries (of five).
	w.gh.Fault("POST", "/repos/{owner}/{repo}/statuses/{sha}", githubtest.Fault{Status: 502, Times: 3})
	w.gh.Comment(w.repo, n, "alice", "/apply staging")
	w.waitStatus(sha, "tugboat/apply/staging", "success", 2*time.Minute)
	if left := w.gh.FaultsLeft(); left != 0 {
		t.Errorf("%d injected faults never fired", left)
	}
	var states []string
	for _, s := range w.gh.Statuses(w.repo, sha) {
		if s.Context == "tugboat/apply/staging" {
			states = append(states, s.State)
		}
	}
	if strings.Join(states, ",") != "pending,success" {
		t.Errorf("statuses of the apply = %v, want pending then success", states)
	}
	if got := w.configMapValue(staging, "app", "color"); got != "green" {
		t.Errorf("staging's color = %q, want green", got)
	}
	if !strings.Contains(w.bot.logs.String(), "server error, retrying") {
		t.Errorf("no retry in the log")
	}
}

// A plan that deletes a Namespace is refused without --allow-dangerous:
// before any write — the cluster unchanged, nothing locked, no status, no
// Deployment — with a reply naming the object and the flag.
func TestApplyDangerousDeleteRefused(t *testing.T) {
	w := newWorld(t, options{})
	extra := w.ns + "-x"
	t.Cleanup(func() {
		staging.Client().CoreV1().Namespaces().Delete(context.Background(), extra, metav1.DeleteOptions{})
	})
	// A push to main that lets staging prune and require nothing deploys
	// it, a Namespace included.
	pushed := w.gh.Commit(w.repo, "main", map[string]string{
		".tugboat.yaml":          strings.Replace(baseFiles(w.ns)[".tugboat.yaml"], "apply: on-comment\n", "apply: on-comment\n    prune: true\n    requires: []\n", 1),
		"deploy/staging/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + extra + "\n",
	}, "add a namespace")
	w.waitStatus(pushed, "tugboat/apply/staging", "success", 2*time.Minute)
	deploys := len(w.gh.Deployments(w.repo))

	w.gh.DeleteFiles(w.repo, "cleanup", []string{"deploy/staging/ns.yaml"}, "drop the namespace")
	sha := w.gh.Commit(w.repo, "cleanup", map[string]string{"deploy/staging/app.yaml": configMap("app", "color", "green")}, "and recolor")
	n := w.gh.OpenPR(w.repo, githubtest.PROptions{Head: "cleanup", Title: "Cleanup", Author: "alice"})
	w.waitPlanned(sha, "staging")
	before := len(w.botComments(n))
	w.gh.Comment(w.repo, n, "alice", "/apply staging")
	reply := w.replyAfter(n, before, "the refusal")
	for _, want := range []string{"--allow-dangerous", "Namespace", extra} {
		if !strings.Contains(reply, want) {
			t.Errorf("refusal lacks %q:\n%s", want, reply)
		}
	}
	waitIdle(t, w)
	if got := w.configMapValue(staging, "app", "color"); got != "blue" {
		t.Errorf("the refused apply wrote: color = %q", got)
	}
	if _, err := staging.Client().CoreV1().Namespaces().Get(context.Background(), extra, metav1.GetOptions{}); err != nil {
		t.Errorf("namespace %s after the refusal: %v", extra, err)
	}
	if holder := w.lockHolder(staging, "staging"); holder != "" {
		t.Errorf("the refused apply left a lock held by %q", holder)
	}
	if st := w.newestStatus(sha, "tugboat/apply/staging"); st != nil {
		t.Errorf("the refused apply posted a status: %+v", st)
	}
	if got := len(w.gh.Deployments(w.repo)); got != deploys {
		t.Errorf("the refused apply created %d Deployments", got-deploys)
	}
}

// Two `/apply` in a row: the pull request's events keep their order, so
// the second is handled once the first apply has finished, and answers
// "already applied" without writing.
func TestApplyTwiceInARow(t *testing.T) {
	w := newWorld(t, options{})
	w.gh.SetPermission(w.repo, "carol", "write")
	n, sha := w.openPR("twice", map[string]string{"deploy/staging/app.yaml": configMap("app", "color", "green")})
	w.waitPlanned(sha, "staging")
	w.gh.Approve(w.repo, n, "carol")
	w.gh.Comment(w.repo, n, "alice", "/apply staging")
	w.gh.Comment(w.repo, n, "alice", "/apply staging")
	w.waitStatus(sha, "tugboat/apply/staging", "success", 2*time.Minute)
	w.waitFor("the reply to the second /apply", time.Minute, func() bool {
		return strings.Contains(strings.ToLower(allBodies(w.botComments(n))), "already applied")
	})
	waitIdle(t, w)

	result, already := -1, -1
	for i, c := range w.botComments(n) {
		switch {
		case strings.Contains(strings.ToLower(c.Body), "already applied"):
			already = i
		case strings.Contains(c.Body, "ConfigMap") && !strings.HasPrefix(c.Body, "<!-- tugboat:plan"):
			result = i
		}
	}
	if result < 0 || already < result {
		t.Errorf("the result comment (#%d) should come before the second /apply's reply (#%d):\n%s", result, already, allBodies(w.botComments(n)))
	}
	if got := w.countChecks(sha, "tugboat/staging"); got != 2 {
		t.Errorf("%d tugboat/staging runs, want 2: the plan and one apply", got)
	}
	if deps := w.gh.Deployments(w.repo); len(deps) != 1 || deps[0].State() != "success" {
		t.Errorf("deployments = %+v, want one, successful", deps)
	}
	var states []string
	for _, s := range w.gh.Statuses(w.repo, sha) {
		if s.Context == "tugboat/apply/staging" {
			states = append(states, s.State)
		}
	}
	if strings.Join(states, ",") != "pending,success" {
		t.Errorf("statuses of the applies = %v, want one apply's pending then success", states)
	}
}

// `/apply` where it cannot apply is answered, and nothing is written or
// locked: on a draft, on a pull request that conflicts with its base, on a
// closed one, and naming an environment that does not exist (the reply
// names those that do).
func TestApplyRefusedPullRequests(t *testing.T) {
	w := newWorld(t, options{})
	w.gh.SetPermission(w.repo, "carol", "write")
	green := map[string]string{"deploy/staging/app.yaml": configMap("app", "color", "green")}

	sha := w.gh.Commit(w.repo, "draft", green, "draft change")
	draft := w.gh.OpenPR(w.repo, githubtest.PROptions{Head: "draft", Title: "Draft", Author: "alice", Draft: true})
	w.waitPlanned(sha, "staging")

	w.gh.Commit(w.repo, "conflict", green, "conflicting change")
	w.gh.Commit(w.repo, "main", map[string]string{"deploy/staging/app.yaml": configMap("app", "color", "red")}, "main moves on")
	conflict := w.gh.OpenPR(w.repo, githubtest.PROptions{Head: "conflict", Title: "Conflict", Author: "alice"})

	closed, closedSHA := w.openPR("closed", green)
	w.waitPlanned(closedSHA, "staging")
	w.gh.ClosePR(w.repo, closed, "alice")

	unknown, unknownSHA := w.openPR("unknown", map[string]string{"deploy/staging/app.yaml": configMap("app", "color", "purple")})
	w.waitPlanned(unknownSHA, "staging")
	waitIdle(t, w)

	for _, c := range []struct {
		name    string
		n       int
		command string
		want    []string
	}{
		{"draft", draft, "/apply staging", []string{"the pull request is a draft"}},
		{"conflict", conflict, "/apply staging", []string{"the pull request conflicts with `main`"}},
		{"closed", closed, "/apply staging", []string{"the pull request is closed"}},
		{"unknown environment", unknown, "/apply qa", []string{"no such environment", "`staging`", "`prod`"}},
	} {
		w.gh.Approve(w.repo, c.n, "carol")
		before := len(w.botComments(c.n))
		w.gh.Comment(w.repo, c.n, "alice", c.command)
		reply := w.replyAfter(c.n, before, "the reply on the "+c.name+" pull request")
		for _, want := range c.want {
			if !strings.Contains(reply, want) {
				t.Errorf("%s: reply lacks %q:\n%s", c.name, want, reply)
			}
		}
	}
	waitIdle(t, w)
	if got := w.configMapValue(staging, "app", "color"); got != "" {
		t.Errorf("a refused apply wrote to staging: color = %q", got)
	}
	if holder := w.lockHolder(staging, "staging"); holder != "" {
		t.Errorf("a refused apply left a lock held by %q", holder)
	}
	if deps := w.gh.Deployments(w.repo); len(deps) != 0 {
		t.Errorf("a refused apply created Deployments: %+v", deps)
	}
}
