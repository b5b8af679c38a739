package ops

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/internal/githubtest"
)

// TestApplyThenAlreadyApplied: an approved, mergeable PR's /apply staging
// applies exactly the shown plan once, reports it (check run, status,
// Deployment, comment) and takes the lock; the same /apply again writes
// nothing and says so.
func TestApplyThenAlreadyApplied(t *testing.T) {
	w := newWorld(t)
	n := w.openPR("release", "web:1.1")
	w.gh.Approve(testRepo, n, "carol")
	w.apply(n, "bob", "staging")

	if got := w.applier.calls(); len(got) != 1 || !strings.HasPrefix(got[0], "staging@") {
		t.Fatalf("applier calls = %v, want one of staging", got)
	}
	head := w.head(n)
	st := statusOf(w.gh.Statuses(testRepo, head), "tugboat/apply/staging")
	if st == nil || st.State != "success" {
		t.Fatalf("status tugboat/apply/staging on the head = %+v, want success", st)
	}
	deps := w.gh.Deployments(testRepo)
	if len(deps) != 1 || deps[0].Environment != "staging" || deps[0].Ref != head || deps[0].State() != "success" {
		t.Fatalf("deployments = %+v, want one successful deployment of staging at the head", deps)
	}
	run := latestRun(w.gh.CheckRuns(testRepo, head), "tugboat/staging")
	if run == nil || run.Conclusion != "success" {
		t.Fatalf("newest tugboat/staging run = %+v, want success", run)
	}
	if !strings.Contains(w.lastReply(n), "staging") {
		t.Errorf("result comment does not name staging:\n%s", w.lastReply(n))
	}
	if got := w.state.lockHolder("staging"); got != "acme/infra#"+fmt.Sprint(n) {
		t.Errorf("staging lock holder = %q, want acme/infra#%d", got, n)
	}

	w.apply(n, "bob", "staging")
	if got := w.applier.calls(); len(got) != 1 {
		t.Fatalf("the repeated /apply wrote again: %v", got)
	}
	if r := w.lastReply(n); !strings.Contains(strings.ToLower(r), "already applied") {
		t.Errorf("reply to the repeated /apply = %q, want already applied", r)
	}
}

// TestApplyRefusals: every unmet condition is named in one reply, and
// nothing is applied or locked.
func TestApplyRefusals(t *testing.T) {
	cases := []struct {
		name  string
		setup func(w *world, n int)
		actor string
		envs  []string
		want  []string
	}{
		{"no approval", func(*world, int) {}, "bob", []string{"staging"}, []string{"approval"}},
		{"author's own approval", func(w *world, n int) { w.gh.Approve(testRepo, n, "bob") }, "carol", []string{"staging"}, []string{"approval"}},
		{"read-only approver", func(w *world, n int) { w.gh.Approve(testRepo, n, "dave") }, "bob", []string{"staging"}, []string{"approval"}},
		{"read-only actor", func(w *world, n int) { w.gh.Approve(testRepo, n, "carol") }, "dave", []string{"staging"}, []string{"dave"}},
		{"failing CI", func(w *world, n int) {
			w.gh.Approve(testRepo, n, "carol")
			w.gh.SetStatus(testRepo, w.head(n), "ci/test", "failure", "ci-bot")
		}, "bob", []string{"staging"}, []string{"ci/test"}},
		{"required check not reported", func(w *world, n int) {
			w.gh.Approve(testRepo, n, "carol")
			w.gh.Protect(testRepo, "main", githubtest.BranchProtection{RequiredContexts: []string{"lint", "tugboat/prod"}})
		}, "bob", []string{"staging"}, []string{"lint"}},
		{"changes requested", func(w *world, n int) {
			w.gh.Approve(testRepo, n, "carol")
			w.gh.Review(testRepo, n, "erin", "CHANGES_REQUESTED", "no")
		}, "bob", []string{"staging"}, []string{"erin"}},
		{"on-merge environment", func(w *world, n int) { w.gh.Approve(testRepo, n, "carol") }, "bob", []string{"prod"}, []string{"merge"}},
		{"unknown environment", func(w *world, n int) { w.gh.Approve(testRepo, n, "carol") }, "bob", []string{"qa"}, []string{"qa", "staging", "prod"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			n := w.openPR("release", "web:1.1")
			c.setup(w, n)
			w.apply(n, c.actor, c.envs...)
			if got := w.applier.calls(); len(got) != 0 {
				t.Fatalf("applied although refused: %v", got)
			}
			reply := w.lastReply(n)
			for _, want := range c.want {
				if !strings.Contains(reply, want) {
					t.Errorf("reply does not mention %q:\n%s", want, reply)
				}
			}
			if h := w.state.lockHolder("staging"); h != "" {
				t.Errorf("a refused apply left the lock taken by %s", h)
			}
			if st := statusOf(w.gh.Statuses(testRepo, w.head(n)), "tugboat/apply/staging"); st != nil {
				t.Errorf("a refused apply posted a status: %+v", st)
			}
		})
	}
}

// TestApprovalsFollowTheTree: an approval survives a push of the same
// content (same tree) and goes stale with a change of content.
func TestApprovalsFollowTheTree(t *testing.T) {
	w := newWorld(t)
	n := w.openPR("release", "web:1.1")
	w.gh.Approve(testRepo, n, "carol")
	// Same content again: a new commit with the same tree.
	w.gh.Commit(testRepo, "release", map[string]string{"deploy/staging/app.yaml": "image: web:1.1\n"}, "same content")
	w.plan(n)
	w.apply(n, "bob", "staging")
	if got := w.applier.calls(); len(got) != 1 {
		t.Fatalf("an approval of the same tree did not count: applied %v; reply:\n%s", got, w.lastReply(n))
	}
	w.gh.Commit(testRepo, "release", map[string]string{"deploy/staging/app.yaml": "image: web:1.2\n"}, "new content")
	w.plan(n)
	w.apply(n, "bob", "staging")
	if got := w.applier.calls(); len(got) != 1 {
		t.Fatalf("a stale approval counted: applied %v", got)
	}
	if r := w.lastReply(n); !strings.Contains(r, "carol") {
		t.Errorf("the refusal does not name carol's stale approval:\n%s", r)
	}
}

// TestLockConflictAndUnlock: a second PR cannot apply an environment the
// first holds until the first unlocks it.
func TestLockConflictAndUnlock(t *testing.T) {
	w := newWorld(t)
	one := w.openPR("one", "web:1.1")
	w.gh.Approve(testRepo, one, "carol")
	w.apply(one, "bob", "staging")
	two := w.openPR("two", "web:2.0")
	w.gh.Approve(testRepo, two, "carol")
	w.apply(two, "bob", "staging")
	if got := w.applier.calls(); len(got) != 1 {
		t.Fatalf("PR #%d applied over #%d's lock: %v", two, one, got)
	}
	if r := w.lastReply(two); !strings.Contains(r, fmt.Sprintf("#%d", one)) {
		t.Errorf("the refusal does not name the holder #%d:\n%s", one, r)
	}
	if err := w.ops.Unlock(w.ctx(), UnlockRequest{PR: w.pr(one), Actor: "bob", Envs: []string{"staging"}}); err != nil {
		t.Fatal(err)
	}
	if h := w.state.lockHolder("staging"); h != "" {
		t.Fatalf("after /unlock the lock is held by %q", h)
	}
	w.apply(two, "bob", "staging")
	if got := w.applier.calls(); len(got) != 2 {
		t.Fatalf("after /unlock PR #%d still cannot apply: %v\n%s", two, got, w.lastReply(two))
	}
}

// TestPlanChangedNothingApplied: drift since the plan was shown changes
// the digest: nothing is written, the new plan is posted, the lock goes.
func TestPlanChangedNothingApplied(t *testing.T) {
	w := newWorld(t)
	n := w.openPR("release", "web:1.1")
	w.gh.Approve(testRepo, n, "carol")
	runsBefore := len(w.gh.CheckRuns(testRepo, w.head(n)))
	w.planner.setDrift("staging", true)
	w.apply(n, "bob", "staging")
	if got := w.applier.calls(); len(got) != 0 {
		t.Fatalf("applied a plan nobody saw: %v", got)
	}
	if r := w.lastReply(n); !strings.Contains(r, "changed") {
		t.Errorf("reply = %q, want the plan changed", r)
	}
	if len(w.gh.CheckRuns(testRepo, w.head(n))) <= runsBefore {
		t.Error("the new plan was not posted")
	}
	if h := w.state.lockHolder("staging"); h != "" {
		t.Errorf("the refused apply kept the lock it took (%s)", h)
	}
}

// TestMergeDeploysInOrderAndRecords: a merge deploys prod after staging at
// the merged commit; staging, applied before merge, only moves its record.
// The PR's lock goes once deployed.
func TestMergeDeploysInOrderAndRecords(t *testing.T) {
	w := newWorld(t)
	n := w.openPR("release", "web:1.1")
	w.gh.Approve(testRepo, n, "carol")
	w.apply(n, "bob", "staging")
	sha := w.gh.Merge(testRepo, n, "alice")
	plans := w.planner.count()
	if err := w.ops.DeployPush(w.ctx(), PushRequest{Client: w.client, Repo: w.repo, Branch: "main", SHA: sha, Pusher: "alice"}); err != nil {
		t.Fatal(err)
	}
	// Each environment is planned once: prod's plan, made under its apply
	// mutex, is the one applied (staging's is empty: record only).
	if got := w.planner.count() - plans; got != 2 {
		t.Errorf("the merge deploy planned %d times, want 2 (once per environment)", got)
	}
	calls := w.applier.calls()
	if len(calls) != 2 || calls[1] != "prod@"+sha {
		t.Fatalf("applier calls = %v, want staging (before merge) then prod@%s", calls, sha)
	}
	if rec, _ := w.state.Record(w.ctx(), envNamed("staging"), testRepo); rec.Commit != sha {
		t.Errorf("staging's record is at %s, want the merged commit %s", rec.Commit, sha)
	}
	if st := statusOf(w.gh.Statuses(testRepo, sha), "tugboat/apply/prod"); st == nil || st.State != "success" {
		t.Errorf("prod status on the merged commit = %+v", st)
	}
	if h := w.state.lockHolder("staging"); h != "" {
		t.Errorf("the merged PR still holds staging (%s)", h)
	}
}

// TestMergeStopsAfterAFailure: prod is not deployed when staging failed at
// the same commit.
func TestMergeStopsAfterAFailure(t *testing.T) {
	w := newWorld(t)
	n := w.openPR("release", "web:1.1")
	w.gh.Approve(testRepo, n, "carol")
	w.applier.fail = map[string]bool{"staging": true}
	sha := w.gh.Merge(testRepo, n, "alice")
	if err := w.ops.DeployPush(w.ctx(), PushRequest{Client: w.client, Repo: w.repo, Branch: "main", SHA: sha, Pusher: "alice"}); err != nil {
		t.Fatal(err)
	}
	if calls := w.applier.calls(); len(calls) != 1 || !strings.HasPrefix(calls[0], "staging@") {
		t.Fatalf("applier calls = %v, want only staging", calls)
	}
	st := statusOf(w.gh.Statuses(testRepo, sha), "tugboat/apply/prod")
	if st == nil || st.State != "failure" || !strings.Contains(st.Description, "staging") {
		t.Errorf("prod status = %+v, want a failure naming staging", st)
	}
}

// TestPushWithoutPRAndCoalescing: a direct push deploys only environments
// that require nothing; a push that is no longer the head deploys nothing.
func TestPushWithoutPRAndCoalescing(t *testing.T) {
	w := newWorld(t)
	first := w.gh.Commit(testRepo, "main", map[string]string{"deploy/staging/app.yaml": "image: web:3\n"}, "direct")
	second := w.gh.Commit(testRepo, "main", map[string]string{"deploy/prod/app.yaml": "image: web:3\n"}, "direct again")
	if err := w.ops.DeployPush(w.ctx(), PushRequest{Client: w.client, Repo: w.repo, Branch: "main", SHA: first, Pusher: "alice"}); err != nil {
		t.Fatal(err)
	}
	if got := w.applier.calls(); len(got) != 0 {
		t.Fatalf("an older push was deployed: %v", got)
	}
	if err := w.ops.DeployPush(w.ctx(), PushRequest{Client: w.client, Repo: w.repo, Branch: "main", SHA: second, Pusher: "alice"}); err != nil {
		t.Fatal(err)
	}
	if got := w.applier.calls(); len(got) != 0 {
		t.Fatalf("a push without a pull request deployed environments that require approval: %v", got)
	}
	st := statusOf(w.gh.Statuses(testRepo, second), "tugboat/apply/staging")
	if st == nil || st.State != "failure" || !strings.Contains(st.Description, "pull request") {
		t.Errorf("staging status = %+v, want not deployed: no pull request", st)
	}
}

// TestClosedWithoutMergeReverts: closing an applied PR brings its
// environments back to the default branch and releases its locks.
func TestClosedWithoutMergeReverts(t *testing.T) {
	w := newWorld(t)
	n := w.openPR("release", "web:1.1")
	w.gh.Approve(testRepo, n, "carol")
	w.apply(n, "bob", "staging")
	w.gh.ClosePR(testRepo, n, "bob")
	if err := w.ops.Closed(w.ctx(), CloseRequest{PR: w.pr(n), Head: w.head(n), Actor: "bob"}); err != nil {
		t.Fatal(err)
	}
	main := w.gh.HeadSHA(testRepo, "main")
	calls := w.applier.calls()
	if len(calls) != 2 || calls[1] != "staging@"+main {
		t.Fatalf("applier calls = %v, want staging re-applied at main %s", calls, main)
	}
	if h := w.state.lockHolder("staging"); h != "" {
		t.Errorf("the closed PR still holds staging (%s)", h)
	}
	if r := w.lastReply(n); !strings.Contains(r, "staging") {
		t.Errorf("the revert comment does not name staging:\n%s", r)
	}
}

// TestConfigOnlyFromTheDefaultBranch: a PR into an unprotected branch whose
// .tugboat.yaml adds an environment on the prod cluster gets that
// environment neither planned nor applied; the comment says which
// configuration was used.
func TestConfigOnlyFromTheDefaultBranch(t *testing.T) {
	w := newWorld(t)
	w.gh.Branch(testRepo, "unprotected", "main")
	w.gh.Commit(testRepo, "unprotected", map[string]string{
		".tugboat.yaml": testConfig + "  evil:\n    cluster: prod\n    path: deploy/evil\n    apply: on-comment\n    requires: []\n",
	}, "an environment of my own")
	w.gh.Branch(testRepo, "attack", "unprotected")
	w.gh.Commit(testRepo, "attack", map[string]string{"deploy/evil/app.yaml": "image: evil\n", "deploy/staging/app.yaml": "image: web:9\n"}, "attack")
	n := w.gh.OpenPR(testRepo, githubtest.PROptions{Head: "attack", Base: "unprotected", Title: "attack", Author: "bob"})
	w.plan(n)
	if run := latestRun(w.gh.CheckRuns(testRepo, w.head(n)), "tugboat/evil"); run != nil {
		t.Fatalf("the base branch's own environment was planned: %+v", run)
	}
	var plan string
	for _, c := range w.gh.Comments(testRepo, n) {
		plan += c.Body
	}
	if !strings.Contains(plan, "default branch") {
		t.Errorf("the plan does not say it used the default branch's configuration:\n%s", plan)
	}
	w.apply(n, "alice", "evil")
	if got := w.applier.calls(); len(got) != 0 {
		t.Fatalf("applied an environment from an untrusted configuration: %v", got)
	}
	if r := w.lastReply(n); !strings.Contains(r, "no such environment") {
		t.Errorf("reply = %q, want no such environment", r)
	}
}

// TestLockShownInOtherPlans: another PR's plan names the holder of a
// locked environment in its summary row.
func TestLockShownInOtherPlans(t *testing.T) {
	w := newWorld(t)
	one := w.openPR("one", "web:1.1")
	w.gh.Approve(testRepo, one, "carol")
	w.apply(one, "bob", "staging")
	two := w.openPR("two", "web:2.0")
	var plan string
	for _, c := range w.gh.Comments(testRepo, two) {
		plan += c.Body
	}
	if want := fmt.Sprintf("🔒 locked by #%d", one); !strings.Contains(plan, want) {
		t.Errorf("PR #%d's plan does not show %q:\n%s", two, want, plan)
	}
}

// TestMergeGroupChecks: in a merge queue, staging (on-comment) passes only
// when the group is what was applied, prod (on-merge) when it plans
// cleanly; the queue merges once both pass.
func TestMergeGroupChecks(t *testing.T) {
	w := newWorld(t)
	w.gh.AddRuleset(testRepo, githubtest.Ruleset{Name: "queue", Branches: []string{"main"},
		RequiredChecks: []string{"tugboat/staging", "tugboat/prod"}, MergeQueue: &githubtest.MergeQueue{}})
	applied := w.openPR("applied", "web:1.1")
	w.gh.Approve(testRepo, applied, "carol")
	if err := w.ops.ReviewChanged(w.ctx(), w.pr(applied)); err != nil { // prod's gate is met now
		t.Fatal(err)
	}
	w.apply(applied, "bob", "staging")
	w.gh.EnqueuePR(testRepo, applied, "alice")
	q := w.gh.MergeQueue(testRepo, "main")
	if len(q) != 1 {
		t.Fatalf("merge queue = %+v", q)
	}
	group := q[0]
	if err := w.ops.MergeGroup(w.ctx(), MergeGroupRequest{Client: w.client, Repo: w.repo, HeadSHA: group.HeadSHA, BaseSHA: group.BaseSHA}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"tugboat/staging", "tugboat/prod"} {
		if run := latestRun(w.gh.CheckRuns(testRepo, group.HeadSHA), name); run == nil || run.Conclusion != "success" {
			t.Errorf("%s on the group = %+v, want success", name, run)
		}
	}
	w.gh.AdvanceMergeQueue(testRepo)
	if pr := w.gh.PR(testRepo, applied); !pr.Merged {
		t.Errorf("the queue did not merge #%d once tugboat's checks passed", applied)
	}

	// A group holding a staging change that was never applied fails
	// staging's check (GitHub would not even queue it while staging's run
	// waits for /apply; a moved base gets the same verdict).
	other := w.openPR("not-applied", "web:2.0")
	head := w.head(other)
	if err := w.ops.MergeGroup(w.ctx(), MergeGroupRequest{Client: w.client, Repo: w.repo, HeadSHA: head, BaseSHA: w.gh.HeadSHA(testRepo, "main")}); err != nil {
		t.Fatal(err)
	}
	run := latestRun(w.gh.CheckRuns(testRepo, head), "tugboat/staging")
	if run == nil || run.Conclusion != "failure" || !strings.Contains(run.Title, "differs from what was applied") {
		t.Errorf("staging on a group that was not applied = %+v, want failure", run)
	}
}

// TestAutomerge: with automerge, the PR merges once its on-comment
// environment converged — never after a failed apply.
func TestAutomerge(t *testing.T) {
	w := newWorld(t)
	w.gh.Commit(testRepo, "main", map[string]string{config.RepoFile: "automerge: true\n" + testConfig}, "automerge")
	failing := w.openPR("failing", "web:1.1")
	w.gh.Approve(testRepo, failing, "carol")
	w.applier.fail = map[string]bool{"staging": true}
	w.apply(failing, "bob", "staging")
	if pr := w.gh.PR(testRepo, failing); pr.Merged {
		t.Fatal("automerge merged after a failed apply")
	}
	w.applier.fail = nil
	w.gh.ClosePR(testRepo, failing, "bob")
	if err := w.ops.Closed(w.ctx(), CloseRequest{PR: w.pr(failing), Head: w.head(failing), Actor: "bob"}); err != nil {
		t.Fatal(err)
	}

	n := w.openPR("release", "web:1.2")
	w.gh.Approve(testRepo, n, "carol")
	w.apply(n, "bob", "staging")
	if pr := w.gh.PR(testRepo, n); !pr.Merged {
		t.Fatalf("automerge did not merge a converged, mergeable PR; last reply:\n%s", w.lastReply(n))
	}
}

// TestApplyOnMergedPRDeploysHeldBack: a merge without the approval prod
// requires does not deploy prod; once approved, `/apply prod` on the
// merged PR deploys the default branch head.
func TestApplyOnMergedPRDeploysHeldBack(t *testing.T) {
	w := newWorld(t)
	w.gh.Commit(testRepo, "main", map[string]string{config.RepoFile: strings.Replace(testConfig, "    apply: on-comment\n", "    apply: on-merge\n    requires: []\n", 1)}, "staging on merge")
	n := w.openPR("release", "web:1.1")
	sha := w.gh.Merge(testRepo, n, "alice")
	if err := w.ops.DeployPush(w.ctx(), PushRequest{Client: w.client, Repo: w.repo, Branch: "main", SHA: sha, Pusher: "alice"}); err != nil {
		t.Fatal(err)
	}
	if calls := w.applier.calls(); len(calls) != 1 || calls[0] != "staging@"+sha {
		t.Fatalf("applier calls = %v, want staging only", calls)
	}
	st := statusOf(w.gh.Statuses(testRepo, sha), "tugboat/apply/prod")
	if st == nil || st.State != "failure" || !strings.Contains(st.Description, "approval") {
		t.Fatalf("prod status = %+v, want not deployed for want of an approval", st)
	}
	w.gh.Approve(testRepo, n, "carol")
	w.apply(n, "bob", "prod")
	if calls := w.applier.calls(); len(calls) != 2 || calls[1] != "prod@"+sha {
		t.Fatalf("applier calls = %v, want prod deployed at %s; reply:\n%s", calls, sha, w.lastReply(n))
	}
	w.apply(n, "dave", "prod")
	if r := w.lastReply(n); !strings.Contains(r, "permission") {
		t.Errorf("a read-only /apply on a merged PR = %q", r)
	}
}

// TestConfigNamingAForbiddenClusterFailsItsCheck: a PR whose .tugboat.yaml
// points an environment at a cluster the server reserves for other
// repositories gets a failed tugboat/config at that line.
func TestConfigNamingAForbiddenClusterFailsItsCheck(t *testing.T) {
	w := newWorld(t)
	w.ops.opts.ClusterAllowed = func(cluster, repo string) bool { return cluster != "vault" }
	w.gh.Branch(testRepo, "sneaky", "main")
	w.gh.Commit(testRepo, "sneaky", map[string]string{
		config.RepoFile:           testConfig + "  secrets:\n    cluster: vault\n    path: deploy/secrets\n",
		"deploy/staging/app.yaml": "image: web:3\n",
	}, "use the vault cluster")
	n := w.gh.OpenPR(testRepo, githubtest.PROptions{Head: "sneaky", Title: "sneaky", Author: "bob"})
	w.plan(n)
	run := latestRun(w.gh.CheckRuns(testRepo, w.head(n)), "tugboat/config")
	if run == nil || run.Conclusion != "failure" || !strings.Contains(run.Summary, `.tugboat.yaml:13: environments.secrets.cluster: this repository may not use cluster "vault"`) {
		t.Fatalf("tugboat/config = %+v", run)
	}
}
