package ops

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/internal/githubtest"
	"github.com/tugboatops/tugboat/kube"
)

// recordingLocker is the per-PR lock as the resync sees it, recording the
// keys it took (real Leases: kube's tests; serialization: e2e).
type recordingLocker struct {
	mu   sync.Mutex
	keys []string
	busy map[string]bool
}

func (l *recordingLocker) Lock(ctx context.Context, key string) (context.Context, func(), error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.busy[key] {
		return nil, nil, context.DeadlineExceeded
	}
	l.keys = append(l.keys, key)
	return ctx, func() {}, nil
}

// resyncer is the Ops of the leader: the world's GitHub and state, the
// app's installations, and fake mutex holders.
func (w *world) resyncer() (*Ops, *fakeRecords, *recordingLocker) {
	_, recs, f := w.restarted()
	l := &recordingLocker{busy: map[string]bool{}}
	opts := w.ops.opts
	o := New(Engines{Planner: w.planner, Renderer: w.planner, Applier: w.applier, State: w.state, Records: recs, GitHub: f, Locker: l}, opts)
	return o, recs, l
}

// openUnplanned opens a pull request whose webhook was lost: nothing of
// tugboat's is on it.
func (w *world) openUnplanned(branch string, files map[string]string) (int, string) {
	w.t.Helper()
	w.gh.Branch(testRepo, branch, "main")
	head := w.gh.Commit(testRepo, branch, files, "change "+branch)
	n := w.gh.OpenPR(testRepo, githubtest.PROptions{Head: branch, Title: "change " + branch, Author: "bob"})
	return n, head
}

func (w *world) tugboatRuns(sha string) []githubtest.CheckRun {
	var out []githubtest.CheckRun
	for _, r := range w.gh.CheckRuns(testRepo, sha) {
		if r.Name == "tugboat" || strings.HasPrefix(r.Name, "tugboat/") {
			out = append(out, r)
		}
	}
	return out
}

func (w *world) planSets(n int, sha string) int {
	count := 0
	for _, c := range w.gh.Comments(testRepo, n) {
		if m, ok := comments.ParseMarker(c.Body); ok && m.SHA == sha && m.Part == 1 {
			count++
		}
	}
	return count
}

// TestResyncPlansAPullRequestWhoseDeliveryWasLost: a pull request nobody
// told the bot about is planned by the next resync — one comment set, a
// completed run per environment — under its lock; the round after does
// nothing more.
func TestResyncPlansAPullRequestWhoseDeliveryWasLost(t *testing.T) {
	w := newWorld(t)
	ctx := w.ctx()
	n, head := w.openUnplanned("lost", map[string]string{"deploy/staging/app.yaml": "image: web:2.0\n"})
	o, _, locks := w.resyncer()
	if err := o.Resync(ctx); err != nil {
		t.Fatalf("Resync: %v", err)
	}
	runs := w.tugboatRuns(head)
	if len(runs) != 1 || runs[0].Name != "tugboat/staging" || runs[0].Status != "completed" || runs[0].Conclusion != "action_required" {
		t.Fatalf("runs after resync = %+v; want one completed tugboat/staging awaiting /apply", runs)
	}
	if got := w.planSets(n, head); got != 1 {
		t.Fatalf("%d comment sets for the head, want 1", got)
	}
	if !strings.Contains(strings.Join(locks.keys, " "), "acme/infra#1") {
		t.Errorf("the resync planned without the PR's lock: took %v", locks.keys)
	}
	plans := w.planner.count()
	if err := o.Resync(ctx); err != nil {
		t.Fatalf("second Resync: %v", err)
	}
	if got := len(w.tugboatRuns(head)); got != 1 || w.planner.count() != plans || w.planSets(n, head) != 1 {
		t.Errorf("second round: %d runs, %d plans (was %d), %d sets: it planned again", got, w.planner.count(), plans, w.planSets(n, head))
	}
	// A webhook for that head arriving late (IfNotPlanned) posts nothing.
	if err := o.PlanPR(ctx, PlanRequest{PR: w.pr(n), IfNotPlanned: true}); err != nil {
		t.Fatal(err)
	}
	if got := len(w.tugboatRuns(head)); got != 1 || w.planner.count() != plans {
		t.Errorf("a late delivery planned the head again: %d runs, %d plans", got, w.planner.count())
	}
}

// TestResyncMarksUnaffectedHeadSkipped: a head that affects no environment
// gets a completed "tugboat" run "No environment affected" (skipped), no
// comment, and is not looked at again.
func TestResyncMarksUnaffectedHeadSkipped(t *testing.T) {
	w := newWorld(t)
	ctx := w.ctx()
	n, head := w.openUnplanned("docs", map[string]string{"README.md": "# docs\n"})
	o, _, _ := w.resyncer()
	if err := o.Resync(ctx); err != nil {
		t.Fatalf("Resync: %v", err)
	}
	runs := w.tugboatRuns(head)
	if len(runs) != 1 || runs[0].Name != "tugboat" || runs[0].Status != "completed" || runs[0].Conclusion != "skipped" ||
		runs[0].Title != "No environment affected" {
		t.Fatalf("runs = %+v; want one skipped tugboat run", runs)
	}
	if cs := w.gh.Comments(testRepo, n); len(cs) != 0 {
		t.Errorf("comments on a PR affecting nothing: %+v", cs)
	}
	renders := w.planner.count()
	if err := o.Resync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(w.tugboatRuns(head)); got != 1 {
		t.Errorf("second round added runs: %d", got)
	}
	if w.planner.count() != renders {
		t.Errorf("second round planned again")
	}
}

// TestResyncConcludesInterruptedPlanAndPlansAgain: a plan run a killed
// process left in progress is concluded "interrupted" and the head is
// planned again — unless a live process holds the environment's apply
// mutex, when nothing is touched this round.
func TestResyncConcludesInterruptedPlanAndPlansAgain(t *testing.T) {
	w := newWorld(t)
	ctx := w.ctx()
	_, head := w.openUnplanned("killed", map[string]string{"deploy/staging/app.yaml": "image: web:3.0\n"})
	stuck, err := w.client.CreateCheckRun(ctx, w.repo, gh.CheckRun{Name: "tugboat/staging", HeadSHA: head, Status: "in_progress",
		Title: "Planning…", Summary: "tugboat is planning staging."})
	if err != nil {
		t.Fatal(err)
	}
	o, recs, _ := w.resyncer()

	recs.mu.Lock()
	recs.live["staging"] = "replica-2/7/ab"
	recs.mu.Unlock()
	if err := o.Resync(ctx); err != nil {
		t.Fatalf("Resync: %v", err)
	}
	if runs := w.tugboatRuns(head); len(runs) != 1 || runs[0].Status != "in_progress" {
		t.Fatalf("with a live mutex holder the run was touched: %+v", runs)
	}

	recs.mu.Lock()
	delete(recs.live, "staging")
	recs.mu.Unlock()
	if err := o.Resync(ctx); err != nil {
		t.Fatalf("Resync: %v", err)
	}
	runs := w.tugboatRuns(head)
	if len(runs) != 2 {
		t.Fatalf("runs = %+v; want the interrupted one and a new plan", runs)
	}
	for _, r := range runs {
		switch {
		case r.ID == stuck:
			if r.Status != "completed" || r.Conclusion != "failure" || r.Title != "Interrupted — planning again" {
				t.Errorf("the stuck run = %s/%s %q", r.Status, r.Conclusion, r.Title)
			}
		case r.Status != "completed" || r.Conclusion != "action_required" || r.ExternalID == "":
			t.Errorf("the new plan run = %s/%s %q", r.Status, r.Conclusion, r.Title)
		}
	}
}

// TestResyncLeavesForksAndBusyPRsAlone: a fork's pull request waits for a
// maintainer; one whose lock another replica holds is its to handle.
func TestResyncLeavesForksAndBusyPRsAlone(t *testing.T) {
	w := newWorld(t)
	ctx := w.ctx()
	forkRepo := w.gh.Fork(testRepo, "mallory")
	w.gh.Branch(forkRepo, "evil", "main")
	w.gh.Commit(forkRepo, "evil", map[string]string{"deploy/staging/app.yaml": "image: evil\n"}, "evil")
	fork := w.gh.OpenPR(testRepo, githubtest.PROptions{Head: "evil", HeadRepo: forkRepo, Title: "fork", Author: "mallory"})
	busy, busyHead := w.openUnplanned("busy", map[string]string{"deploy/staging/app.yaml": "image: web:4.0\n"})
	o, _, locks := w.resyncer()
	locks.busy[PRKey(w.repo, busy)] = true
	if err := o.Resync(ctx); err != nil {
		t.Fatalf("Resync: %v", err)
	}
	if runs := w.tugboatRuns(w.head(fork)); len(runs) != 0 {
		t.Errorf("a fork PR was planned by the resync: %+v", runs)
	}
	if runs := w.tugboatRuns(busyHead); len(runs) != 0 {
		t.Errorf("a PR another replica holds was planned: %+v", runs)
	}
}

// TestResyncDeploysEnvironmentBehindDefaultBranch: an on-merge environment
// whose record names an older commit than the default branch head — the
// push webhook was lost — is deployed by the resync through the merge
// deploy; an environment already reported at the head is not retried.
func TestResyncDeploysEnvironmentBehindDefaultBranch(t *testing.T) {
	w := newWorld(t)
	ctx := w.ctx()
	old, err := w.client.BranchHead(ctx, w.repo, "main")
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range []string{"staging", "prod"} {
		w.state.setRecord(env, kube.Record{Commit: old, Outcome: kube.OutcomeConverged, Time: time.Now(), Trigger: kube.TriggerRecord})
	}
	// A direct push (prod then requires nothing, so it may deploy without a
	// pull request), then another: both webhooks lost.
	w.gh.Commit(testRepo, "main", map[string]string{config.RepoFile: strings.Replace(testConfig, "    after: [staging]\n", "    requires: []\n", 1)}, "no requirements")
	head := w.gh.Commit(testRepo, "main", map[string]string{"deploy/prod/app.yaml": "image: web:5.1\n"}, "and another")
	o, _, locks := w.resyncer()
	if err := o.Resync(ctx); err != nil {
		t.Fatalf("Resync: %v", err)
	}
	if st := statusOf(w.gh.Statuses(testRepo, head), "tugboat/apply/prod"); st == nil || st.State != "success" {
		t.Fatalf("prod's deploy status on the head = %+v; want success", st)
	}
	if rec, _ := w.state.Record(ctx, envNamed("prod"), testRepo); rec.Commit != head {
		t.Errorf("prod's record = %s, want the head %s", rec.Commit, head)
	}
	if !strings.Contains(strings.Join(locks.keys, " "), "acme/infra") {
		t.Errorf("deployed without the repository's push lock: %v", locks.keys)
	}
	applied := len(w.applier.calls())
	if err := o.Resync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(w.applier.calls()); got != applied {
		t.Errorf("the second round deployed again: %v", w.applier.calls())
	}
}

// TestIfNotPlannedRetriesAnEarlyFailure: a head whose only run says
// planning failed before any environment was known is planned by a
// redelivery (IfNotPlanned), which is how a maintainer retries it.
func TestIfNotPlannedRetriesAnEarlyFailure(t *testing.T) {
	w := newWorld(t)
	ctx := w.ctx()
	n, head := w.openUnplanned("flaky", map[string]string{"deploy/staging/app.yaml": "image: web:6.0\n"})
	if _, err := w.client.CreateCheckRun(ctx, w.repo, gh.CheckRun{Name: "tugboat", HeadSHA: head, Status: "completed",
		Conclusion: "failure", Title: "Could not plan", Summary: "GitHub answered 503."}); err != nil {
		t.Fatal(err)
	}
	if err := w.ops.PlanPR(ctx, PlanRequest{PR: w.pr(n), IfNotPlanned: true}); err != nil {
		t.Fatal(err)
	}
	if run := latestRun(w.gh.CheckRuns(testRepo, head), "tugboat/staging"); run == nil || run.Status != "completed" {
		t.Fatalf("the redelivery did not plan after an early failure: %+v", run)
	}
	plans := w.planner.count()
	if err := w.ops.PlanPR(ctx, PlanRequest{PR: w.pr(n), IfNotPlanned: true}); err != nil {
		t.Fatal(err)
	}
	if w.planner.count() != plans {
		t.Error("a second delivery planned the planned head again")
	}
}
