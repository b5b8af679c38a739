package ops

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/internal/githubtest"
	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/planner"
)

// fakeRecords lists memState's records as one repository's, each
// environment in the cluster of its name, with the mutex holders a test
// says are live (real Leases: kube's tests).
type fakeRecords struct {
	state *memState
	mu    sync.Mutex
	live  map[string]string // env → live mutex holder
}

func (f *fakeRecords) ClusterNames() []string { return []string{"prod", "staging"} }

func (f *fakeRecords) ListRecords(_ context.Context, cluster string) ([]kube.ApplySetRecord, error) {
	f.state.mu.Lock()
	defer f.state.mu.Unlock()
	if rec, ok := f.state.records[cluster]; ok {
		return []kube.ApplySetRecord{{Set: kube.ApplySet{Repo: testRepo, Env: cluster}, Record: rec}}, nil
	}
	return nil, nil
}

func (f *fakeRecords) MutexHolder(_ context.Context, env config.Environment, _ string) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.live[env.Name]
	return h, h != "", nil
}

func (f *fakeRecords) FailInterrupted(_ context.Context, env config.Environment, _ string, started kube.Record, message string) (bool, error) {
	f.state.mu.Lock()
	defer f.state.mu.Unlock()
	cur := f.state.records[env.Name]
	if cur.Outcome != kube.OutcomeInProgress || cur.Commit != started.Commit || !cur.Time.Equal(started.Time) {
		return false, nil
	}
	cur.Outcome, cur.Message = kube.OutcomeFailed, message
	f.state.records[env.Name] = cur
	return true, nil
}

// interrupted is an apply of staging that a process opened on GitHub and
// recorded in progress, and then died: exactly what the reporter opens
// before the first write.
type interrupted struct {
	n          int
	head       string
	run        int64 // the apply's check run
	deployment int64
}

func (w *world) interruptApply(ctx context.Context) interrupted {
	w.t.Helper()
	n := w.openPR("release", "web:1.1")
	w.gh.Approve(testRepo, n, "carol")
	head := w.head(n)
	shown := latestRun(w.gh.CheckRuns(testRepo, head), "tugboat/staging").ExternalID
	merge := w.gh.PR(testRepo, n).MergeCommitSHA
	if _, err := w.state.AcquireLock(ctx, envNamed("staging"), testRepo, LockInfo{Holder: lockHolder(w.repo, n), By: "bob", Head: head}); err != nil {
		w.t.Fatal(err)
	}
	env := config.Environment{Name: "staging", Cluster: "staging", Apply: config.ApplyOnComment}
	plan := &planner.Plan{Env: "staging", Cluster: "staging", Commit: merge, Digest: shown,
		Changes: []planner.Change{{Ref: appRef("staging"), Action: planner.ActionUpdate, FromPR: true}}}
	rep := &reporter{o: w.ops, env: env, commit: merge, start: time.Now(), t: writeTarget{
		Client: w.client, Repo: w.repo, PR: n, Actor: "bob", Trigger: comments.TriggerComment, Head: head,
	}}
	rep.started(ctx, plan)
	rep.reported.Wait()
	w.state.setRecord("staging", kube.Record{Commit: merge, PR: n, Head: head, Digest: shown, Outcome: kube.OutcomeInProgress,
		Trigger: kube.TriggerApply, Time: time.Now().Truncate(time.Second)})
	run := latestRun(w.gh.CheckRuns(testRepo, head), "tugboat/staging")
	deps := w.gh.Deployments(testRepo)
	if run.Status != "in_progress" || len(deps) != 1 || deps[0].State() != "in_progress" ||
		statusOf(w.gh.Statuses(testRepo, head), "tugboat/apply/staging").State != "pending" {
		w.t.Fatalf("the interrupted apply is not in progress on GitHub: run %s, deployments %+v", run.Status, deps)
	}
	return interrupted{n: n, head: head, run: run.ID, deployment: deps[0].ID}
}

// restarted is the Ops of a bot process started after the one that died,
// sharing its GitHub and clusters, and the client maker it finds
// installations with.
func (w *world) restarted() (*Ops, *fakeRecords, *gh.Factory) {
	recs := &fakeRecords{state: w.state, live: map[string]string{}}
	app := w.gh.App()
	cc := githubapp.NewClientCreator(w.gh.URL()+"/api/v3/", w.gh.URL()+"/api/graphql", app.ID, app.PrivateKeyPEM)
	f := &gh.Factory{Creator: cc, Download: &http.Client{Transport: &gh.Transport{Metrics: gh.NewMetrics(prometheus.NewRegistry())}}}
	opts := w.ops.opts
	opts.WebURL = w.gh.URL()
	o := New(Engines{Planner: w.planner, Renderer: w.planner, Applier: w.applier, State: w.state, Records: recs}, opts)
	return o, recs, f
}

// TestConcludeInterruptedApply: a restarted bot concludes the run, status
// and Deployment a dead process left in progress, records the failure,
// plans the environment again, leaves everything not its own alone — and
// `/apply` then applies.
func TestConcludeInterruptedApply(t *testing.T) {
	w := newWorld(t)
	ctx := w.ctx()
	ia := w.interruptApply(ctx)
	w.gh.SetStatus(testRepo, ia.head, "ci/test", "pending", "ci-bot")
	w.gh.SetStatus(testRepo, ia.head, "tugboat/apply/prod", "pending", "ci-bot") // not the bot's
	prodRec := kube.Record{Commit: "c0", Outcome: kube.OutcomeConverged, Time: time.Now()}
	w.state.setRecord("prod", prodRec)

	o, _, f := w.restarted()
	if err := o.ConcludeInterrupted(ctx, f); err != nil {
		t.Fatalf("ConcludeInterrupted: %v", err)
	}

	var run *githubtest.CheckRun
	for _, r := range w.gh.CheckRuns(testRepo, ia.head) {
		if r.ID == ia.run {
			r := r
			run = &r
		}
	}
	if run.Status != "completed" || run.Conclusion != "failure" || run.Title != "Interrupted — /apply again" {
		t.Errorf("the apply's run = %s %s %q, want completed failure, interrupted", run.Status, run.Conclusion, run.Title)
	}
	all := w.gh.Statuses(testRepo, ia.head)
	if st := statusOf(all, "tugboat/apply/staging"); st.State != "error" || !strings.Contains(st.Description, "interrupted") || !strings.Contains(st.URL, fmt.Sprint(ia.run)) {
		t.Errorf("status tugboat/apply/staging = %+v, want error, interrupted, linking the run", st)
	}
	for _, ctxName := range []string{"ci/test", "tugboat/apply/prod"} {
		if st := statusOf(all, ctxName); st.State != "pending" {
			t.Errorf("status %s of someone else = %s, want left pending", ctxName, st.State)
		}
	}
	deps := w.gh.Deployments(testRepo)
	if len(deps) != 1 || deps[0].State() != "error" || !strings.Contains(deps[0].Statuses[len(deps[0].Statuses)-1].Description, "interrupted") {
		t.Errorf("deployments = %+v, want the one concluded as an interrupted error", deps)
	}
	rec := w.state.records["staging"]
	if rec.Outcome != kube.OutcomeFailed || rec.Message != InterruptedMessage {
		t.Errorf("staging record = %+v, want failed, %q", rec, InterruptedMessage)
	}
	if got := w.state.records["prod"]; got.Outcome != prodRec.Outcome || got.Message != "" || !got.Time.Equal(prodRec.Time) {
		t.Errorf("prod's record changed: %+v", got)
	}
	if got := w.state.lockHolder("staging"); got != lockHolder(w.repo, ia.n) {
		t.Errorf("lock = %q, want kept by the PR", got)
	}
	replan := latestRun(w.gh.CheckRuns(testRepo, ia.head), "tugboat/staging")
	if replan.ID == ia.run || replan.Status != "completed" || replan.ExternalID == "" {
		t.Fatalf("staging was not planned again: newest run %+v", replan)
	}

	// Nothing left to conclude: a second pass writes nothing.
	before := len(w.gh.Statuses(testRepo, ia.head))
	if err := o.ConcludeInterrupted(ctx, f); err != nil {
		t.Fatal(err)
	}
	if after := len(w.gh.Statuses(testRepo, ia.head)); after != before {
		t.Errorf("a second pass posted %d statuses", after-before)
	}

	// The others' checks pass; /apply applies the plan made after the
	// interruption.
	w.gh.SetStatus(testRepo, ia.head, "ci/test", "success", "ci-bot")
	w.gh.SetStatus(testRepo, ia.head, "tugboat/apply/prod", "success", "ci-bot")
	if err := o.ApplyPR(ctx, ApplyRequest{PR: PR{Client: w.client, Repo: w.repo, Number: ia.n}, Actor: "bob", Envs: []string{"staging"}, Trigger: "comment"}); err != nil {
		t.Fatal(err)
	}
	if st := statusOf(w.gh.Statuses(testRepo, ia.head), "tugboat/apply/staging"); st.State != "success" {
		t.Errorf("the re-apply's status = %s %q, want success; reply:\n%s", st.State, st.Description, w.lastReply(ia.n))
	}
	if rec := w.state.records["staging"]; rec.Outcome != kube.OutcomeConverged {
		t.Errorf("record after the re-apply = %+v", rec)
	}
}

// TestConcludeInterruptedWaitsForLiveHolder: an apply recorded in progress
// whose mutex a live process holds is that process's to conclude: the
// restarted bot waits for the mutex, sees the apply concluded, and touches
// nothing.
func TestConcludeInterruptedWaitsForLiveHolder(t *testing.T) {
	w := newWorld(t)
	ctx := w.ctx()
	ia := w.interruptApply(ctx)
	o, recs, f := w.restarted()
	recs.live["staging"] = "replica-2"
	_, unlock, err := w.state.AcquireMutex(ctx, envNamed("staging"), testRepo)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- o.ConcludeInterrupted(ctx, f) }()
	select {
	case err := <-done:
		t.Fatalf("ConcludeInterrupted returned (%v) while a live process held the mutex", err)
	case <-time.After(300 * time.Millisecond):
	}
	// The live process finishes its apply: records and releases.
	rec := w.state.records["staging"]
	rec.Outcome = kube.OutcomeConverged
	w.state.setRecord("staging", rec)
	unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := w.state.records["staging"]; got.Outcome != kube.OutcomeConverged {
		t.Errorf("record = %+v, want the live process's converged", got)
	}
	run := latestRun(w.gh.CheckRuns(testRepo, ia.head), "tugboat/staging")
	if run.ID != ia.run || run.Status != "in_progress" {
		t.Errorf("the live apply's run was touched: %+v", run)
	}
	if st := statusOf(w.gh.Statuses(testRepo, ia.head), "tugboat/apply/staging"); st.State != "pending" {
		t.Errorf("the live apply's status was touched: %s", st.State)
	}
}
