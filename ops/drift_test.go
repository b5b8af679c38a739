package ops

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	"github.com/tugboatops/tugboat/applier"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/internal/githubtest"
	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/planner"
)

// Drift rounds are tested against a real control plane (the package's
// kubetest cluster, named "test") and the GitHub emulator, with the real
// planner and applier: each test has a repository and a namespace of its
// own, deploys them with a push to main, then changes objects by hand.

// SetDrift lets recover_test's fakeRecords serve as a RecordStore.
func (f *fakeRecords) SetDrift(context.Context, string, kube.ApplySet, kube.DriftStatus) error {
	return nil
}

// inProcess renders in the test process: the repository is the test's own.
type inProcess struct{}

func (inProcess) Render(_ context.Context, repo fs.FS, env config.Environment) ([]planner.Object, []planner.Problem, error) {
	objs, probs := planner.RenderInProcess(repo, env.Path, planner.DefaultLimits())
	return objs, probs, nil
}

func envOn(name, cluster string) config.Environment {
	return config.Environment{Name: name, Cluster: cluster}
}

type driftWorld struct {
	t       *testing.T
	gh      *githubtest.Server
	full    string
	repo    gh.Repo
	ns      string
	head    string
	factory *gh.Factory
	reg     *kube.Registry
	ops     *Ops
}

// driftConfig: prod is deployed on merge, auto heals; both in the test's
// namespace, a ConfigMap each.
const driftConfig = `version: 1
environments:
  prod:
    cluster: test
    path: deploy/prod
    namespace: %[1]s
    apply: on-merge
    requires: []
  auto:
    cluster: test
    path: deploy/auto
    namespace: %[1]s
    apply: auto
    requires: []
  quiet:
    cluster: test
    path: deploy/quiet
    namespace: %[1]s
    requires: []
    ignore:
      - {kind: ConfigMap, name: quiet-settings, paths: [/data/color]}
`

func newDriftWorld(t *testing.T) *driftWorld {
	t.Helper()
	b := make([]byte, 3)
	rand.Read(b)
	w := &driftWorld{t: t, full: "acme/drift-" + hex.EncodeToString(b), ns: testNamespace(t)}
	w.repo = splitFullName(w.full)
	w.gh = githubtest.New(t, githubtest.WithLogf(func(string, ...any) {}))
	w.gh.CreateRepo(w.full, githubtest.RepoOptions{Files: map[string]string{
		".tugboat.yaml":         fmt.Sprintf(driftConfig, w.ns),
		"deploy/prod/app.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: prod-settings}\ndata: {color: blue, size: m}\n",
		"deploy/auto/app.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: auto-settings}\ndata: {color: blue}\n",
		"deploy/quiet/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: quiet-settings}\ndata: {color: blue, size: m}\n",
	}})
	w.gh.CreateInstallation("acme")
	app := w.gh.App()
	m := gh.NewMetrics(prometheus.NewRegistry())
	cc := githubapp.NewClientCreator(w.gh.URL()+"/api/v3/", w.gh.URL()+"/api/graphql", app.ID, app.PrivateKeyPEM,
		githubapp.WithClientMiddleware(gh.Middleware(gh.RetryPolicy{Backoff: 10 * time.Millisecond}, m)))
	w.factory = &gh.Factory{Creator: cc, Download: &http.Client{Transport: &gh.Transport{Metrics: m}}}
	w.reg = kube.NewRegistry(nil)
	if err := w.reg.AddConfig("test", cluster.RESTConfig()); err != nil {
		t.Fatal(err)
	}
	w.ops = w.newOps(w.reg)
	w.head = w.gh.HeadSHA(w.full, "main")
	client, err := w.factory.ForRepo(w.ctx(), w.repo)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.ops.DeployPush(w.ctx(), PushRequest{Client: client, Repo: w.repo, Branch: "main", SHA: w.head, Pusher: "alice"}); err != nil {
		t.Fatal(err)
	}
	for _, env := range []string{"prod", "auto", "quiet"} {
		if st := w.status("tugboat/apply/" + env); st.State != "success" {
			t.Fatalf("deploying %s: status %+v", env, st)
		}
	}
	return w
}

// newOps is a bot process whose planner reaches the clusters through
// planReg (the records are always read through the test cluster).
func (w *driftWorld) newOps(planReg *kube.Registry) *Ops {
	key := []byte("0123456789abcdef0123456789abcdef")
	pl := &planner.Planner{Clusters: planReg, DigestKey: key, Renderer: inProcess{}}
	state := &KubeState{Clusters: w.reg, Identity: "drift-test"}
	return New(Engines{Planner: pl, Renderer: inProcess{}, Applier: &applier.Applier{Planner: pl, Clusters: planReg}, State: state, Records: state},
		Options{BotLogin: w.gh.Bot().Login, AppID: w.gh.App().ID, WebURL: w.gh.URL(), Clients: w.factory,
			Drift: DriftOptions{Interval: time.Millisecond, Concurrency: 2}})
}

func (w *driftWorld) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	w.t.Cleanup(cancel)
	return zerolog.New(zerolog.NewTestWriter(w.t)).WithContext(ctx)
}

func (w *driftWorld) round() {
	w.t.Helper()
	if err := w.ops.DriftRound(w.ctx()); err != nil {
		w.t.Fatalf("DriftRound: %v", err)
	}
}

// setData replaces a ConfigMap's data by hand, as kubectl edit would.
func (w *driftWorld) setData(name, data string) {
	w.t.Helper()
	patch := fmt.Sprintf(`{"data": %s}`, data)
	_, err := cluster.Client().CoreV1().ConfigMaps(w.ns).Patch(context.Background(), name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
}

func (w *driftWorld) data(name string) map[string]string {
	w.t.Helper()
	cm, err := cluster.Client().CoreV1().ConfigMaps(w.ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	return cm.Data
}

// statuses lists the commit statuses of one context on the deployed commit.
func (w *driftWorld) statuses(context string) []githubtest.Status {
	var out []githubtest.Status
	for _, st := range w.gh.Statuses(w.full, w.head) {
		if st.Context == context {
			out = append(out, st)
		}
	}
	return out
}

func (w *driftWorld) status(context string) githubtest.Status {
	all := w.statuses(context)
	if len(all) == 0 {
		return githubtest.Status{}
	}
	return all[len(all)-1]
}

func (w *driftWorld) issues() []githubtest.Issue { return w.gh.Issues(w.full) }

// drift is the drift status recorded on env's parent.
func (w *driftWorld) drift(env string) kube.DriftStatus {
	w.t.Helper()
	c, err := w.reg.Cluster("test")
	if err != nil {
		w.t.Fatal(err)
	}
	recs, err := kube.ListRecords(context.Background(), c)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, r := range recs {
		if r.Set.Repo == w.full && r.Set.Env == env {
			return r.Drift
		}
	}
	w.t.Fatalf("no record of %s", env)
	return kube.DriftStatus{}
}

func (w *driftWorld) comments(n int) []githubtest.Comment { return w.gh.Comments(w.full, n) }

// TestDriftIssueLifecycle: drift found → issue opened and status failure;
// a later round → the same issue updated, no second status; fixed by hand
// → closed with a comment, status success; back → the same issue reopened.
func TestDriftIssueLifecycle(t *testing.T) {
	w := newDriftWorld(t)
	short := w.head[:7]

	// In sync: one success status per environment, no issue.
	w.round()
	if st := w.status("tugboat/drift/prod"); st.State != "success" || st.Description != "in sync" {
		t.Errorf("in sync: status %+v", st)
	}
	if len(w.issues()) != 0 {
		t.Fatalf("issues while in sync: %+v", w.issues())
	}
	if d := w.drift("prod"); d.State != kube.DriftInSync || d.Commit != w.head || d.Issue != 0 || d.Time.IsZero() {
		t.Errorf("recorded drift = %+v", d)
	}

	w.setData("prod-settings", `{"color": "red"}`)
	w.round()
	iss := w.issues()
	if len(iss) != 1 {
		t.Fatalf("%d issues, want 1: %+v", len(iss), iss)
	}
	is := iss[0]
	if want := "Drift in prod: 1 object differs from main@" + short; is.Title != want || is.State != "open" ||
		len(is.Labels) != 1 || is.Labels[0] != DriftLabel || is.Author != w.gh.Bot().Login {
		t.Errorf("issue = %q %s %v by %s, want %q open, labelled, by the bot", is.Title, is.State, is.Labels, is.Author, want)
	}
	for _, want := range []string{"ConfigMap " + w.ns + "/prod-settings", "-  color: red", "+  color: blue"} {
		if !strings.Contains(is.Body, want) {
			t.Errorf("issue body lacks %q:\n%s", want, is.Body)
		}
	}
	if st := w.status("tugboat/drift/prod"); st.State != "failure" || st.Description != "1 object drifted" || !strings.Contains(st.URL, fmt.Sprint(is.Number)) {
		t.Errorf("drifted: status %+v", st)
	}
	if d := w.drift("prod"); d.State != kube.DriftDrifted || d.Objects != 1 || d.Issue != is.Number {
		t.Errorf("recorded drift = %+v", d)
	}

	// A second round: the same issue, updated in place; no second status.
	w.setData("prod-settings", `{"color": "red", "size": "xl"}`)
	w.round()
	if iss := w.issues(); len(iss) != 1 || iss[0].Number != is.Number || !strings.Contains(iss[0].Body, "-  size: xl") || iss[0].State != "open" {
		t.Fatalf("second round: issues %+v", iss)
	}
	if n := len(w.statuses("tugboat/drift/prod")); n != 2 {
		t.Errorf("%d tugboat/drift/prod statuses, want 2 (in sync, drifted)", n)
	}

	// Fixed by hand: closed with a comment, status success.
	w.setData("prod-settings", `{"color": "blue", "size": "m"}`)
	w.round()
	got := w.issues()[0]
	cs := w.comments(is.Number)
	if got.State != "closed" || len(cs) == 0 || !strings.Contains(cs[len(cs)-1].Body, "No more drift in `prod`") {
		t.Errorf("fixed: issue %s, comments %+v", got.State, cs)
	}
	if st := w.status("tugboat/drift/prod"); st.State != "success" || len(w.statuses("tugboat/drift/prod")) != 3 {
		t.Errorf("fixed: status %+v (%d)", st, len(w.statuses("tugboat/drift/prod")))
	}
	if d := w.drift("prod"); d.State != kube.DriftInSync || d.Issue != 0 {
		t.Errorf("recorded drift = %+v", d)
	}
	// Still in sync: nothing new on GitHub.
	before := len(w.comments(is.Number))
	w.round()
	if len(w.comments(is.Number)) != before || len(w.statuses("tugboat/drift/prod")) != 3 || len(w.issues()) != 1 {
		t.Errorf("an in-sync round wrote to GitHub")
	}

	// Back: the same issue reopened, with a note.
	w.setData("prod-settings", `{"color": "green"}`)
	w.round()
	iss = w.issues()
	cs = w.comments(is.Number)
	if len(iss) != 1 || iss[0].State != "open" || !strings.Contains(iss[0].Body, "+  color: blue") ||
		!strings.Contains(cs[len(cs)-1].Body, "The drift is back") {
		t.Errorf("back: issues %+v, last comment %q", iss, cs[len(cs)-1].Body)
	}
	if st := w.status("tugboat/drift/prod"); st.State != "failure" || len(w.statuses("tugboat/drift/prod")) != 4 {
		t.Errorf("back: status %+v", st)
	}
	// The other environment was in sync all along: one status.
	if n := len(w.statuses("tugboat/drift/auto")); n != 1 {
		t.Errorf("%d statuses for auto, want 1", n)
	}
}

// TestDriftUnknownWhenClusterUnreachable: a cluster that does not answer
// while planning is recorded "unknown" with a secret-free reason; no issue
// is opened, an open one gets one note (not one per round), and no status
// changes. A cluster whose records cannot be listed is left alone.
func TestDriftUnknownWhenClusterUnreachable(t *testing.T) {
	w := newDriftWorld(t)
	w.setData("prod-settings", `{"color": "red"}`)
	w.round()
	is := w.issues()[0]
	statuses := len(w.gh.Statuses(w.full, w.head))
	comments := len(w.comments(is.Number))

	dead := kube.NewRegistry(nil)
	if err := dead.AddConfig("test", &rest.Config{Host: "https://127.0.0.1:1", Timeout: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	w.ops = w.newOps(dead)
	w.setData("auto-settings", `{"color": "red"}`)
	for range 2 {
		w.round()
	}
	for _, env := range []string{"prod", "auto"} {
		if d := w.drift(env); d.State != kube.DriftUnknown || d.Message != "cluster test did not answer" {
			t.Errorf("%s: recorded drift %+v, want unknown: cluster test did not answer", env, d)
		}
	}
	if d := w.drift("prod"); d.Issue != is.Number {
		t.Errorf("prod's issue forgotten: %+v", d)
	}
	if iss := w.issues(); len(iss) != 1 || iss[0].State != "open" {
		t.Errorf("issues = %+v, want the one issue, still open", iss)
	}
	cs := w.comments(is.Number)
	if len(cs) != comments+1 || !strings.Contains(cs[len(cs)-1].Body, "could not be checked**: cluster test did not answer") {
		t.Errorf("comments on the issue: %d new, last %q; want one note", len(cs)-comments, cs[len(cs)-1].Body)
	}
	if n := len(w.gh.Statuses(w.full, w.head)); n != statuses {
		t.Errorf("%d statuses posted while the cluster was unreachable", n-statuses)
	}
	if got := w.data("auto-settings")["color"]; got != "red" {
		t.Errorf("auto-settings healed through an unreachable cluster? color %s", got)
	}

	// The records themselves cannot be read: an error, and nothing written.
	deadState := &KubeState{Clusters: dead, Identity: "x"}
	o := New(Engines{Planner: w.ops.planner, Applier: w.ops.applier, State: deadState, Records: deadState},
		Options{BotLogin: w.gh.Bot().Login, Clients: w.factory, Drift: DriftOptions{Interval: time.Millisecond}})
	if err := o.DriftRound(w.ctx()); err == nil || !strings.Contains(err.Error(), "cluster test") {
		t.Errorf("DriftRound on an unreachable cluster: %v", err)
	}
	if n := len(w.comments(is.Number)); n != comments+1 || len(w.issues()) != 1 {
		t.Errorf("an unreachable cluster wrote to GitHub")
	}
}

// TestDriftHealAndBackoff: an `apply: auto` environment is healed through
// the write path (status, Deployment, record trigger heal), the issue says
// what was healed and is closed; drift coming back at once is not healed
// again until the backoff has passed.
func TestDriftHealAndBackoff(t *testing.T) {
	w := newDriftWorld(t)
	now := time.Now()
	w.ops.heals.now = func() time.Time { return now }
	w.setData("auto-settings", `{"color": "red"}`)
	w.round()

	if got := w.data("auto-settings")["color"]; got != "blue" {
		t.Fatalf("auto-settings not healed: color %s", got)
	}
	iss := w.issues()
	if len(iss) != 1 || iss[0].State != "closed" || !strings.HasPrefix(iss[0].Title, "Drift in auto: 1 object differs") {
		t.Fatalf("issues = %+v, want one, closed", iss)
	}
	cs := w.comments(iss[0].Number)
	var healed, closed bool
	for _, c := range cs {
		healed = healed || strings.Contains(c.Body, "auto: healed")
		closed = closed || strings.Contains(c.Body, "tugboat healed it")
	}
	if !healed || !closed {
		t.Errorf("the issue does not say what was healed: %+v", cs)
	}
	if st := w.status("tugboat/apply/auto"); st.State != "success" || len(w.statuses("tugboat/apply/auto")) < 3 {
		t.Errorf("heal's apply status = %+v", st)
	}
	if st := w.status("tugboat/drift/auto"); st.State != "success" {
		t.Errorf("drift status after the heal = %+v", st)
	}
	state := &KubeState{Clusters: w.reg}
	rec, err := state.Record(w.ctx(), envOn("auto", "test"), w.full)
	if err != nil || rec.Trigger != kube.TriggerHeal || rec.Commit != w.head || rec.Outcome != kube.OutcomeConverged {
		t.Errorf("record after the heal = %+v, %v", rec, err)
	}
	deps := 0
	for _, d := range w.gh.Deployments(w.full) {
		if d.Environment == "auto" {
			deps++
		}
	}
	if deps != 2 {
		t.Errorf("%d Deployments of auto, want 2 (deploy, heal)", deps)
	}

	// Back at once: reported, not healed (the backoff is a minute).
	w.setData("auto-settings", `{"color": "green"}`)
	now = now.Add(30 * time.Second)
	w.round()
	if got := w.data("auto-settings")["color"]; got != "green" {
		t.Errorf("healed again within the backoff: color %s", got)
	}
	is := w.issues()[0]
	if is.State != "open" || !strings.Contains(is.Body, "the next heal waits until") {
		t.Errorf("issue while waiting: %s\n%s", is.State, is.Body)
	}
	// Past the backoff: healed again; the next wait doubles.
	now = now.Add(time.Minute)
	w.round()
	if got := w.data("auto-settings")["color"]; got != "blue" {
		t.Errorf("not healed after the backoff: color %s", got)
	}
	if w.issues()[0].State != "closed" {
		t.Errorf("issue not closed after the second heal")
	}
	if until := w.ops.heals.waitUntil(w.full + "/auto"); !until.Equal(now.Add(2 * time.Minute)) {
		t.Errorf("next heal after %v, want 2m after the second", until.Sub(now))
	}
}

// TestDriftBogusCommitNeverApplied: an ApplySet parent edited by hand to a
// commit the repository does not have (or to a branch name) is reported
// unknown with the reason, and an `apply: auto` environment is not healed
// to anything.
func TestDriftBogusCommitNeverApplied(t *testing.T) {
	w := newDriftWorld(t)
	w.setData("auto-settings", `{"color": "red"}`)
	set := kube.ApplySet{Repo: w.full, Env: "auto"}
	for _, bogus := range []string{strings.Repeat("de", 20), "main"} {
		patch := fmt.Sprintf(`{"metadata": {"annotations": {%q: %q}}}`, kube.AnnotationLastCommit, bogus)
		_, err := cluster.Client().CoreV1().Secrets(kube.SystemNamespace).Patch(context.Background(), set.ParentName(), types.MergePatchType, []byte(patch), metav1.PatchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w.round()
		d := w.drift("auto")
		want := "is not a commit of " + w.full
		if bogus == "main" {
			want = `the recorded commit "main" is not a commit SHA`
		}
		if d.State != kube.DriftUnknown || !strings.Contains(d.Message, want) {
			t.Errorf("%s: recorded drift %+v, want unknown: %s", bogus, d, want)
		}
		if got := w.data("auto-settings")["color"]; got != "red" {
			t.Fatalf("%s: the environment was applied: color %s", bogus, got)
		}
	}
	if len(w.issues()) != 0 {
		t.Errorf("issues opened for a bogus commit: %+v", w.issues())
	}
}

// An environment is due once its interval has passed since its last
// check, give or take a quarter for the ticker's jitter.
func TestDriftDue(t *testing.T) {
	start := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	rec := func(last time.Time) kube.ApplySetRecord {
		return kube.ApplySetRecord{Drift: kube.DriftStatus{Time: last}}
	}
	for _, c := range []struct {
		last time.Time
		want bool
	}{
		{time.Time{}, true},
		{start.Add(-10 * time.Minute), true},
		{start.Add(-9*time.Minute - 59*time.Second), true},
		{start.Add(-7 * time.Minute), false},
		{start.Add(-time.Minute), false},
	} {
		if got := driftDue(rec(c.last), 10*time.Minute, start); got != c.want {
			t.Errorf("last %v: due %v, want %v", start.Sub(c.last), got, c.want)
		}
	}
}

// TestDriftIgnoreRules: a field an ignore rule leaves to the cluster is
// not drift; the others of the same object are.
func TestDriftIgnoreRules(t *testing.T) {
	w := newDriftWorld(t)
	w.setData("quiet-settings", `{"color": "red"}`)
	w.round()
	if d := w.drift("quiet"); d.State != kube.DriftInSync || len(w.issues()) != 0 {
		t.Errorf("an ignored field counted as drift: %+v, issues %+v", d, w.issues())
	}
	w.setData("quiet-settings", `{"size": "xl"}`)
	w.round()
	if d := w.drift("quiet"); d.State != kube.DriftDrifted || d.Objects != 1 {
		t.Errorf("a field not ignored is not drift: %+v", d)
	}
	iss := w.issues()
	if len(iss) != 1 || !strings.Contains(iss[0].Body, "-  size: xl") ||
		strings.Contains(iss[0].Body, "+  color") || strings.Contains(iss[0].Body, "-  color") {
		t.Errorf("issue = %+v, want the size only", iss)
	}
}
