package ops

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/internal/githubtest"
	"github.com/tugboatops/tugboat/kube"
)

const releaseConfig = `version: 1
environments:
  staging:
    cluster: staging
    path: deploy/staging
    apply: on-comment
  prod:
    cluster: prod
    path: deploy/prod
    apply: on-merge
    promote: {from: staging, images: true, files: [app.env]}
    break_glass: [erin]
`

const stagingKustomization = `resources: [app.yaml]
images:
  - name: web
    newTag: "1.6.0"
  - name: api
    newName: registry.example.com/api
    newTag: 2.3.1
`

const prodKustomization = `resources: [app.yaml]
# what prod runs
images:
  - name: web
    newTag: "1.5.0" # last week's
  - name: api
    newName: registry.example.com/api
    newTag: 2.3.1
`

// releaseWorld is a world whose repository declares promotion from
// staging to prod, with staging's record at the default branch head.
func releaseWorld(t *testing.T) (*world, string) {
	w := newWorld(t)
	sha := w.gh.Commit(testRepo, "main", map[string]string{
		config.RepoFile:                     releaseConfig,
		"deploy/staging/kustomization.yaml": stagingKustomization,
		"deploy/staging/app.env":            "LOG=debug\n",
		"deploy/prod/kustomization.yaml":    prodKustomization,
		"deploy/prod/app.env":               "LOG=info\n",
	}, "kustomize")
	w.state.setRecord("staging", kube.Record{Commit: sha, Outcome: kube.OutcomeConverged, Trigger: kube.TriggerMerge, Time: time.Now()})
	return w, sha
}

func TestPromoteOpensThenUpdatesThePullRequest(t *testing.T) {
	w, _ := releaseWorld(t)
	ask := w.openPR("ask", "web:x") // where /promote is written
	if err := w.ops.Promote(w.ctx(), PromoteRequest{PR: w.pr(ask), Actor: "bob", From: "staging", To: "prod"}); err != nil {
		t.Fatal(err)
	}
	n := ask + 1
	if got := w.lastReply(ask); got != "Opened #"+itoa(n)+" to promote **staging** to **prod**.\n" {
		t.Fatalf("reply = %q", got)
	}
	pr := w.gh.PR(testRepo, n)
	if pr.HeadRef != "tugboat/promote-staging-to-prod" || pr.Author != w.ops.opts.BotLogin || pr.Title != "Promote staging → prod: web 1.6.0, 1 file" {
		t.Fatalf("promotion PR: head %s, author %s, title %q", pr.HeadRef, pr.Author, pr.Title)
	}
	for _, want := range []string{"| `web` | `web:1.5.0` | `web:1.6.0` |", "- `deploy/prod/app.env`", "Requested by @\u200bbob", "requested-by=bob"} {
		if !strings.Contains(pr.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, pr.Body)
		}
	}
	k, _, err := w.client.File(w.ctx(), w.repo, pr.HeadSHA, "deploy/prod/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(prodKustomization, `newTag: "1.5.0" # last week's`, `newTag: "1.6.0" # last week's`, 1)
	if string(k) != want {
		t.Fatalf("prod kustomization:\n%s\nwant:\n%s", k, want)
	}
	if env, _, _ := w.client.File(w.ctx(), w.repo, pr.HeadSHA, "deploy/prod/app.env"); string(env) != "LOG=debug\n" {
		t.Fatalf("prod app.env = %q", env)
	}

	// staging moves on: the same pull request is updated (force-pushed).
	sha := w.gh.Commit(testRepo, "main", map[string]string{"deploy/staging/kustomization.yaml": strings.Replace(stagingKustomization, "1.6.0", "1.7.0", 1)}, "1.7.0")
	w.state.setRecord("staging", kube.Record{Commit: sha, Outcome: kube.OutcomeConverged, Trigger: kube.TriggerMerge, Time: time.Now()})
	res, err := w.ops.PromoteResult(w.ctx(), PromoteRequest{PR: w.pr(0), Actor: "bob", From: "staging", To: "prod"})
	if err != nil || res.Number != n || !res.Updated {
		t.Fatalf("second promotion = %+v, %v; want #%d updated", res, err, n)
	}
	if pr := w.gh.PR(testRepo, n); pr.Title != "Promote staging → prod: web 1.7.0, 1 file" {
		t.Fatalf("updated title %q", pr.Title)
	}

	// A person pushes to the bot's branch: the next promotion leaves it alone.
	w.gh.Commit(testRepo, "tugboat/promote-staging-to-prod", map[string]string{"deploy/prod/app.env": "LOG=warn\n"}, "tweak")
	res, err = w.ops.PromoteResult(w.ctx(), PromoteRequest{PR: w.pr(0), Actor: "bob", From: "staging", To: "prod"})
	if err != nil || len(res.Refused) != 1 || !strings.Contains(res.Reply, "branch `tugboat/promote-staging-to-prod` was changed by") {
		t.Fatalf("promotion over a person's push = %+v, %v", res, err)
	}
}

// The requester counts as the promotion's author: their approval does not
// count, another writer's does.
func TestPromotionRequesterApprovalDoesNotCount(t *testing.T) {
	w, _ := releaseWorld(t)
	res, err := w.ops.PromoteResult(w.ctx(), PromoteRequest{PR: w.pr(0), Actor: "bob", From: "staging", To: "prod"})
	if err != nil || res.Number == 0 {
		t.Fatalf("promote = %+v, %v", res, err)
	}
	w.gh.Approve(testRepo, res.Number, "bob")
	info, err := w.client.PullRequest(w.ctx(), w.repo, res.Number, w.ops.opts.Mergeable)
	if err != nil {
		t.Fatal(err)
	}
	st, err := newRequirementChecks(w.ops, w.pr(res.Number), info).approvalsState(w.ctx())
	if err != nil || len(st.current) != 0 {
		t.Fatalf("approvals with only the requester's = %+v, %v", st, err)
	}
	w.gh.Approve(testRepo, res.Number, "carol")
	st, err = newRequirementChecks(w.ops, w.pr(res.Number), info).approvalsState(w.ctx())
	if err != nil || len(st.current) != 1 || st.current[0] != "carol" {
		t.Fatalf("approvals = %+v, %v; want carol's", st, err)
	}
}

func TestPromoteBadInput(t *testing.T) {
	w, sha := releaseWorld(t)
	applied := w.openPR("applied", "web:9")
	cases := []struct {
		name, actor, from, to string
		setup                 func()
		want                  string
	}{
		{"unknown from", "bob", "qa", "prod", nil, "unknown environment qa; the environments are prod, staging"},
		{"unknown to", "bob", "staging", "live", nil, "unknown environment live"},
		{"to itself", "bob", "prod", "prod", nil, "`prod` cannot be promoted to itself"},
		{"no promote", "bob", "prod", "staging", nil, "`staging` has no `promote:`"},
		{"not allowed", "dave", "staging", "prod", nil, "needs write, maintain or admin permission"},
		{"never deployed", "bob", "staging", "prod", func() { w.state.setRecord("staging", kube.Record{}) }, "`staging` has never been deployed"},
		{"failed", "bob", "staging", "prod", func() {
			w.state.setRecord("staging", kube.Record{Commit: sha, Outcome: kube.OutcomeFailed, Trigger: kube.TriggerMerge})
		}, "is failed, not converged"},
		{"unmerged", "bob", "staging", "prod", func() {
			w.state.setRecord("staging", kube.Record{Commit: sha, PR: applied, Outcome: kube.OutcomeConverged, Trigger: kube.TriggerApply})
		}, "`staging` runs #" + itoa(applied) + ", applied before merge and not merged"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w.state.setRecord("staging", kube.Record{Commit: sha, Outcome: kube.OutcomeConverged, Trigger: kube.TriggerMerge})
			if c.setup != nil {
				c.setup()
			}
			res, err := w.ops.PromoteResult(w.ctx(), PromoteRequest{PR: w.pr(0), Actor: c.actor, From: c.from, To: c.to})
			if err != nil {
				t.Fatal(err)
			}
			if res.Number != 0 || !strings.Contains(res.Reply, c.want) || !strings.Contains(res.Reply, "not promoted") {
				t.Errorf("result = %+v; want a refusal with %q", res, c.want)
			}
		})
	}
	if _, found, _ := w.client.BranchSHA(w.ctx(), w.repo, "tugboat/promote-staging-to-prod"); found {
		t.Errorf("a refused promotion wrote the branch")
	}
}

func TestPromoteNothingToPromote(t *testing.T) {
	w, _ := releaseWorld(t)
	sha := w.gh.Commit(testRepo, "main", map[string]string{
		"deploy/prod/kustomization.yaml": strings.Replace(prodKustomization, `"1.5.0"`, `"1.6.0"`, 1),
		"deploy/prod/app.env":            "LOG=debug\n",
	}, "by hand")
	res, err := w.ops.PromoteResult(w.ctx(), PromoteRequest{PR: w.pr(0), Actor: "bob", From: "staging", To: "prod"})
	if err != nil || !res.Nothing || res.Number != 0 || !strings.Contains(res.Reply, "Nothing to promote: **prod** already has what **staging** runs") {
		t.Fatalf("result = %+v, %v", res, err)
	}
	if _, found, _ := w.client.BranchSHA(w.ctx(), w.repo, "tugboat/promote-staging-to-prod"); found {
		t.Error("nothing to promote, yet the branch was written")
	}
	_ = sha
}

// openMerged opens a pull request changing prod's app.env, approved by
// carol, and merges it; it returns the number and merge commit.
func (w *world) openMerged(branch, content string) (int, string) {
	return w.openMergedFile(branch, "deploy/prod/app.env", content)
}

// openMergedFile is openMerged changing another file.
func (w *world) openMergedFile(branch, file, content string) (int, string) {
	w.t.Helper()
	w.gh.Branch(testRepo, branch, "main")
	w.gh.Commit(testRepo, branch, map[string]string{file: content}, branch)
	n := w.gh.OpenPR(testRepo, githubtest.PROptions{Head: branch, Title: branch, Author: "bob"})
	w.gh.Approve(testRepo, n, "carol")
	return n, w.gh.Merge(testRepo, n, "bob")
}

func (w *world) deploy(sha string) {
	w.t.Helper()
	if err := w.ops.DeployPush(w.ctx(), PushRequest{Client: w.client, Repo: w.repo, Branch: "main", SHA: sha, Pusher: "bob"}); err != nil {
		w.t.Fatal(err)
	}
}

func TestRollbackOpensTheRevert(t *testing.T) {
	w, _ := releaseWorld(t)
	open := w.openPR("open", "web:2")
	if err := w.ops.Rollback(w.ctx(), RollbackRequest{PR: w.pr(open), Actor: "bob"}); err != nil {
		t.Fatal(err)
	}
	if got := w.lastReply(open); !strings.Contains(got, "not rolled back") || !strings.Contains(got, "is not merged") {
		t.Fatalf("unmerged: %q", got)
	}
	n, _ := w.openMerged("bad", "LOG=trace\n")
	if err := w.ops.Rollback(w.ctx(), RollbackRequest{PR: w.pr(n), Actor: "dave"}); err != nil {
		t.Fatal(err)
	}
	if got := w.lastReply(n); !strings.Contains(got, "needs write, maintain or admin permission") {
		t.Fatalf("dave: %q", got)
	}
	if err := w.ops.Rollback(w.ctx(), RollbackRequest{PR: w.pr(n), Actor: "bob"}); err != nil {
		t.Fatal(err)
	}
	revert := n + 1
	if got := w.lastReply(n); got != "Opened #"+itoa(revert)+" to revert #"+itoa(n)+". It is planned, approved and applied like any pull request.\n" {
		t.Fatalf("reply = %q", got)
	}
	rv := w.gh.PR(testRepo, revert)
	if data, _, _ := w.client.File(w.ctx(), w.repo, rv.HeadSHA, "deploy/prod/app.env"); string(data) != "LOG=info\n" {
		t.Fatalf("revert content = %q", data)
	}
	// Reverted already (the revert merged): the inverse is empty.
	w.gh.Approve(testRepo, revert, "carol")
	w.gh.Merge(testRepo, revert, "bob")
	if err := w.ops.Rollback(w.ctx(), RollbackRequest{PR: w.pr(n), Actor: "bob"}); err != nil {
		t.Fatal(err)
	}
	if got := w.lastReply(n); !strings.Contains(got, "reverted already (the inverse is empty)") {
		t.Fatalf("second rollback: %q", got)
	}
}

func TestRollbackConflictNamesFiles(t *testing.T) {
	w, _ := releaseWorld(t)
	n, _ := w.openMerged("bad", "LOG=trace\n")
	w.gh.Commit(testRepo, "main", map[string]string{"deploy/prod/app.env": "LOG=error\n"}, "later")
	if err := w.ops.Rollback(w.ctx(), RollbackRequest{PR: w.pr(n), Actor: "bob"}); err != nil {
		t.Fatal(err)
	}
	if got := w.lastReply(n); !strings.Contains(got, "GitHub could not revert it cleanly: these files changed since it merged: `deploy/prod/app.env`") {
		t.Fatalf("reply = %q", got)
	}
}

func TestInverseConflicts(t *testing.T) {
	s := func(v string) *string { return &v }
	got := inverseConflicts([]fileVersions{
		{Path: "kept", Before: s("a"), After: s("b"), Now: s("b")},    // revertible
		{Path: "changed", Before: s("a"), After: s("b"), Now: s("c")}, // in the way
		{Path: "back", Before: s("a"), After: s("b"), Now: s("a")},    // reverted already
		{Path: "added", Before: nil, After: s("b"), Now: s("b")},      // revertible (delete)
		{Path: "deleted-since", Before: nil, After: s("b"), Now: nil}, // back as before
		{Path: "re-added", Before: s("a"), After: nil, Now: s("x")},   // in the way
	})
	if strings.Join(got, ",") != "changed,re-added" {
		t.Fatalf("conflicts = %v", got)
	}
	if got := inverseConflicts([]fileVersions{{Path: "x", Before: s("a"), After: s("b"), Now: s("a")}}); len(got) != 0 {
		t.Fatalf("an empty inverse names %v", got)
	}
}

// Break glass: refused for a writer, done for an admin (previous deploy
// applied, pinned, revert opened); a merge while pinned deploys nothing and
// says so; merging the revert unpins and deploys.
func TestRollbackNowPinsUntilTheRevertMerges(t *testing.T) {
	w, base := releaseWorld(t)
	w.state.setRecord("prod", kube.Record{Commit: base, Outcome: kube.OutcomeConverged, Trigger: kube.TriggerMerge})
	bad, badSHA := w.openMerged("bad", "LOG=trace\n")
	w.deploy(badSHA)
	if calls := w.prodApplies(); len(calls) != 1 || calls[0] != "prod@"+badSHA {
		t.Fatalf("deploy of the bad merge: %v", calls)
	}
	prod := kube.Record{Commit: badSHA, PR: bad, Outcome: kube.OutcomeConverged, Trigger: kube.TriggerMerge,
		History: []kube.Deploy{{Commit: badSHA, PR: bad, Outcome: kube.OutcomeConverged}, {Commit: base, Outcome: kube.OutcomeConverged}}}
	w.state.setRecord("prod", prod)

	if err := w.ops.Rollback(w.ctx(), RollbackRequest{PR: w.pr(bad), Actor: "bob", Env: "prod", Now: true}); err != nil {
		t.Fatal(err)
	}
	if got := w.lastReply(bad); !strings.Contains(got, "is for repository admins and `erin`") {
		t.Fatalf("bob's break glass: %q", got)
	}
	if p, _ := w.state.Pin(w.ctx(), config.Environment{Name: "prod"}, testRepo); p != nil || len(w.prodApplies()) != 1 {
		t.Fatalf("a refused break glass wrote: pin %+v, applies %v", p, w.prodApplies())
	}
	if err := w.ops.Rollback(w.ctx(), RollbackRequest{PR: w.pr(bad), Actor: "alice", Env: "prod", Now: true}); err != nil {
		t.Fatal(err)
	}
	calls := w.prodApplies()
	if len(calls) != 2 || calls[1] != "prod@"+base {
		t.Fatalf("break glass applied %v, want prod@%s", calls, base)
	}
	pin, _ := w.state.Pin(w.ctx(), config.Environment{Name: "prod"}, testRepo)
	revert := bad + 1
	if pin == nil || pin.Commit != base || pin.By != "alice" || pin.RevertPR != revert {
		t.Fatalf("pin = %+v; want at %s by alice, revert #%d", pin, base, revert)
	}
	if got := w.lastReply(bad); !strings.Contains(got, "Rolled **prod** back to `"+base[:7]+"`") || !strings.Contains(got, "Opened #"+itoa(revert)) {
		t.Fatalf("reply = %q", got)
	}

	// Another merge while pinned: prod is not deployed, and says why.
	_, other := w.openMergedFile("other", "deploy/prod/extra.env", "X=1\n")
	w.deploy(other)
	if calls := w.prodApplies(); len(calls) != 2 {
		t.Fatalf("a merge while pinned applied %v", calls[2:])
	}
	st := statusOf(w.gh.Statuses(testRepo, other), "tugboat/apply/prod")
	if st == nil || st.State != "failure" || !strings.Contains(st.Description, "pinned at "+base[:7]+" by alice") {
		t.Fatalf("status while pinned = %+v", st)
	}

	// The revert merges: prod is unpinned and deployed.
	w.gh.Approve(testRepo, revert, "carol")
	revertSHA := w.gh.Merge(testRepo, revert, "bob")
	w.deploy(revertSHA)
	if p, _ := w.state.Pin(w.ctx(), config.Environment{Name: "prod"}, testRepo); p != nil {
		t.Fatalf("still pinned after the revert merged: %+v", p)
	}
	if calls := w.prodApplies(); len(calls) != 3 || calls[2] != "prod@"+revertSHA {
		t.Fatalf("after the revert merged: %v", calls)
	}
}

func TestUnpin(t *testing.T) {
	w, base := releaseWorld(t)
	prod := config.Environment{Name: "prod"}
	if err := w.state.SetPin(w.ctx(), prod, testRepo, kube.Pin{Commit: base, By: "alice"}); err != nil {
		t.Fatal(err)
	}
	ask := w.openPR("ask", "web:3")
	if err := w.ops.Unpin(w.ctx(), UnpinRequest{PR: w.pr(ask), Actor: "dave", Envs: []string{"prod"}}); err != nil {
		t.Fatal(err)
	}
	if p, _ := w.state.Pin(w.ctx(), prod, testRepo); p == nil || !strings.Contains(w.lastReply(ask), "not unpinned") {
		t.Fatalf("dave unpinned: %q", w.lastReply(ask))
	}
	if err := w.ops.Unpin(w.ctx(), UnpinRequest{PR: w.pr(ask), Actor: "bob", Envs: []string{"prod", "staging"}}); err != nil {
		t.Fatal(err)
	}
	if p, _ := w.state.Pin(w.ctx(), prod, testRepo); p != nil {
		t.Fatalf("still pinned: %+v", p)
	}
	if got := w.lastReply(ask); got != "- Unpinned **prod**: the next merge or `/apply` deploys it again.\n- **staging** was not pinned.\n" {
		t.Fatalf("reply = %q", got)
	}
}

// prodApplies are the applier's writes to prod.
func (w *world) prodApplies() []string {
	var out []string
	for _, c := range w.applier.calls() {
		if strings.HasPrefix(c, "prod@") {
			out = append(out, c)
		}
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestFinishedActions(t *testing.T) {
	ids := func(a []gh.Action) string {
		var out []string
		for _, x := range a {
			out = append(out, x.Identifier+"/"+x.Label+"/"+x.Description)
		}
		return strings.Join(out, " ")
	}
	if got := ids(finishedActions("staging", []string{"prod"}, true)); got != "plan/Re-plan/Plan this environment again promote-prod/Promote/Promote staging to prod" {
		t.Errorf("converged: %s", got)
	}
	if got := ids(finishedActions("staging", []string{"prod"}, false)); got != "plan/Re-plan/Plan this environment again" {
		t.Errorf("failed: %s", got)
	}
	got := finishedActions("staging", []string{"a-very-long-environment-name", "eu", "us", "ap"}, true)
	if len(got) != 3 || got[1].Identifier != "promote-eu" || got[1].Label != "Promote to eu" || got[2].Identifier != "promote-us" {
		t.Errorf("many targets: %s", ids(got))
	}
	for _, a := range got {
		if len(a.Label) > 20 || len(a.Identifier) > 20 || len(a.Description) > 40 {
			t.Errorf("action over GitHub's limits: %+v", a)
		}
	}
}

// /apply to a pinned environment writes nothing, keeps no lock, and the
// reply says who pinned it where.
func TestApplyRefusedWhilePinned(t *testing.T) {
	w := newWorld(t)
	n := w.openPR("release", "web:2.0")
	w.gh.Approve(testRepo, n, "carol")
	if err := w.state.SetPin(w.ctx(), config.Environment{Name: "staging"}, testRepo, kube.Pin{Commit: "4f2a9c1d00000000000000000000000000000000", By: "alice"}); err != nil {
		t.Fatal(err)
	}
	w.apply(n, "bob", "staging")
	if got := w.applier.calls(); len(got) != 0 {
		t.Fatalf("applied while pinned: %v", got)
	}
	if r := w.lastReply(n); !strings.Contains(r, "`staging` is pinned at `4f2a9c1` by @\u200balice") || !strings.Contains(r, "`/unpin staging`") {
		t.Fatalf("reply = %q", r)
	}
	if got := w.state.lockHolder("staging"); got != "" {
		t.Errorf("a refused apply kept the lock: %q", got)
	}
}
