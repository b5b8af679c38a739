package githubtest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-github/v60/github"
)

// receiver is a webhook endpoint that checks signatures the way the bot
// will (github.ValidatePayload) and parses events with github.ParseWebHook.
type receiver struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	events []received
	status int
}

type received struct {
	event, delivery, userAgent string
	parsed                     any
	payload                    []byte
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	payload, err := github.ValidatePayload(r, []byte(rc.secret))
	if err != nil {
		rc.t.Errorf("delivery %s does not verify: %v", r.Header.Get("X-GitHub-Delivery"), err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	ev, err := github.ParseWebHook(github.WebHookType(r), payload)
	if err != nil {
		rc.t.Errorf("parse %s: %v", github.WebHookType(r), err)
	}
	rc.mu.Lock()
	rc.events = append(rc.events, received{github.WebHookType(r), github.DeliveryID(r), r.UserAgent(), ev, payload})
	status := rc.status
	rc.mu.Unlock()
	if status != 0 {
		w.WriteHeader(status)
	}
}

func (rc *receiver) got() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.events...)
}

func listen(t *testing.T, s *Server) *receiver {
	rc := &receiver{t: t, secret: "s3cret"}
	hs := httptest.NewServer(rc)
	t.Cleanup(hs.Close)
	s.SetWebhook(hs.URL, rc.secret)
	return rc
}

// TestWebhooks drives a pull request through its life and checks that each
// step arrives signed, parsed into the right go-github type, and valid
// against @octokit/webhooks-schemas (the server's cleanup fails the test
// on any schema failure).
func TestWebhooks(t *testing.T) {
	s := New(t)
	rc := listen(t, s)
	s.CreateRepo(testRepo, RepoOptions{})
	s.CreateInstallation("acme")
	s.SetPermission(testRepo, "bob", "write")

	s.Commit(testRepo, "feature", map[string]string{"a.yaml": "a: 1\n"}, "add a")
	n := s.OpenPR(testRepo, PROptions{Head: "feature", Author: "alice", Draft: true})
	s.ReadyForReview(testRepo, n, "alice")
	s.Commit(testRepo, "feature", map[string]string{"a.yaml": "a: 2\n"}, "change a")
	cid := s.Comment(testRepo, n, "alice", "/apply staging")
	s.EditComment(testRepo, cid, "alice", "/apply prod")
	rid := s.Approve(testRepo, n, "bob")
	s.DismissReview(testRepo, n, rid, "acme")

	gh := installationClient(t, s, installationOf(t, s))
	pr := s.PR(testRepo, n)
	run := must[*github.CheckRun](t)(gh.Checks.CreateCheckRun(t.Context(), "acme", "infra", github.CreateCheckRunOptions{
		Name: "tugboat/staging", HeadSHA: pr.HeadSHA, Conclusion: github.String("success"),
		Output:  &github.CheckRunOutput{Title: github.String("plan"), Summary: github.String("1 change")},
		Actions: []*github.CheckRunAction{{Label: "Apply", Description: "Apply to staging", Identifier: "apply"}},
	}))
	s.RequestAction(testRepo, run.GetID(), "apply", "bob")
	s.RerequestCheckRun(testRepo, run.GetID(), "bob")
	s.RerequestCheckSuite(testRepo, pr.HeadSHA, "bob")
	s.ClosePR(testRepo, n, "alice")
	s.ReopenPR(testRepo, n, "alice")
	s.Approve(testRepo, n, "bob")
	s.Merge(testRepo, n, "bob")
	s.WaitForDeliveries()

	type step struct{ event, action string }
	want := []step{
		{"installation", "created"}, {"push", ""}, {"pull_request", "opened"}, {"pull_request", "ready_for_review"},
		{"push", ""}, {"pull_request", "synchronize"}, {"issue_comment", "created"}, {"issue_comment", "edited"},
		{"pull_request_review", "submitted"}, {"pull_request_review", "dismissed"},
		{"check_run", "requested_action"}, {"check_run", "rerequested"}, {"check_suite", "rerequested"},
		{"pull_request", "closed"}, {"pull_request", "reopened"}, {"pull_request_review", "submitted"},
		{"pull_request", "closed"}, {"push", ""},
	}
	got := rc.got()
	if len(got) != len(want) {
		t.Fatalf("received %d deliveries, want %d: %v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		action := ""
		switch ev := g.parsed.(type) {
		case *github.PullRequestEvent:
			action = ev.GetAction()
		case *github.IssueCommentEvent:
			action = ev.GetAction()
		case *github.PullRequestReviewEvent:
			action = ev.GetAction()
		case *github.CheckRunEvent:
			action = ev.GetAction()
		case *github.CheckSuiteEvent:
			action = ev.GetAction()
		case *github.InstallationEvent:
			action = ev.GetAction()
		case *github.PushEvent:
		default:
			t.Errorf("delivery %d: unexpected type %T", i, g.parsed)
		}
		if g.event != w.event || action != w.action {
			t.Errorf("delivery %d = %s.%s, want %s.%s", i, g.event, action, w.event, w.action)
		}
		if g.userAgent == "" || g.delivery == "" {
			t.Errorf("delivery %d lacks GitHub's headers", i)
		}
	}

	// Spot-check the payloads the bot relies on.
	if ev := got[5].parsed.(*github.PullRequestEvent); ev.GetBefore() == ev.GetAfter() || ev.GetAfter() != s.PR(testRepo, n).HeadSHA && !s.PR(testRepo, n).Merged {
		t.Errorf("synchronize before/after = %s/%s", ev.GetBefore(), ev.GetAfter())
	}
	if ev := got[7].parsed.(*github.IssueCommentEvent); ev.GetComment().GetBody() != "/apply prod" || ev.GetChanges().GetBody().GetFrom() != "/apply staging" || !ev.GetIssue().IsPullRequest() {
		t.Errorf("edited comment event: %q from %q", ev.GetComment().GetBody(), ev.GetChanges().GetBody().GetFrom())
	}
	if ev := got[10].parsed.(*github.CheckRunEvent); ev.GetRequestedAction().Identifier != "apply" || ev.GetCheckRun().GetID() != run.GetID() || ev.GetInstallation().GetID() == 0 {
		t.Errorf("requested_action: %+v", ev.GetRequestedAction())
	}
	if ev := got[16].parsed.(*github.PullRequestEvent); !ev.GetPullRequest().GetMerged() || ev.GetPullRequest().GetMergeCommitSHA() != s.HeadSHA(testRepo, "main") {
		t.Errorf("closed after merge: merged=%v sha=%s", ev.GetPullRequest().GetMerged(), ev.GetPullRequest().GetMergeCommitSHA())
	}
	if ev := got[17].parsed.(*github.PushEvent); ev.GetRef() != "refs/heads/main" || ev.GetAfter() != s.HeadSHA(testRepo, "main") {
		t.Errorf("push after merge: %s -> %s", ev.GetRef(), ev.GetAfter())
	}

	// Every delivery is recorded with its answer and latency.
	ds := s.Deliveries()
	if len(ds) != len(want) || ds[0].StatusCode != 200 || ds[0].Latency <= 0 {
		t.Errorf("deliveries recorded: %d, first %d in %s", len(ds), ds[0].StatusCode, ds[0].Latency)
	}
}

func installationOf(t *testing.T, s *Server) int64 {
	for _, d := range s.Deliveries() {
		if d.Event == "installation" {
			ev, err := github.ParseWebHook("installation", d.Payload)
			if err != nil {
				t.Fatal(err)
			}
			return ev.(*github.InstallationEvent).GetInstallation().GetID()
		}
	}
	s.WaitForDeliveries()
	t.Fatal("no installation event")
	return 0
}

// TestRedeliver: a failed delivery can be sent again with the same id.
func TestRedeliver(t *testing.T) {
	s := New(t)
	rc := listen(t, s)
	rc.status = http.StatusServiceUnavailable
	s.CreateRepo(testRepo, RepoOptions{})
	s.CreateInstallation("acme")
	s.Commit(testRepo, "main", map[string]string{"x": "1"}, "x")
	s.WaitForDeliveries()
	ds := s.Deliveries()
	last := ds[len(ds)-1]
	if last.Event != "push" || last.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("last delivery = %s %d", last.Event, last.StatusCode)
	}
	rc.mu.Lock()
	rc.status = 0
	rc.mu.Unlock()
	if err := s.Redeliver(last.ID); err != nil {
		t.Fatal(err)
	}
	s.WaitForDeliveries()
	ds = s.Deliveries()
	re := ds[len(ds)-1]
	if re.ID != last.ID || !re.Redelivery || re.StatusCode != 200 || string(re.Payload) != string(last.Payload) {
		t.Errorf("redelivery = %+v", re)
	}
	got := rc.got()
	if got[len(got)-1].delivery != last.ID || got[len(got)-2].delivery != last.ID {
		t.Errorf("receiver saw ids %s and %s, want %s twice", got[len(got)-2].delivery, got[len(got)-1].delivery, last.ID)
	}
	if err := s.Redeliver("no-such-id"); err == nil {
		t.Errorf("redelivering an unknown id succeeded")
	}
}

// TestNoInstallationNoWebhooks: GitHub only tells an app about repositories it is installed on.
func TestNoInstallationNoWebhooks(t *testing.T) {
	s := New(t)
	s.CreateRepo("other/repo", RepoOptions{})
	s.Commit("other/repo", "main", map[string]string{"x": "1"}, "x")
	s.WaitForDeliveries()
	if ds := s.Deliveries(); len(ds) != 0 {
		t.Errorf("deliveries for an uninstalled repo: %d", len(ds))
	}
}

// TestIssueWebhooks: opening, editing and closing/reopening an issue send
// GitHub's events (schema-checked on cleanup); "edited" says what changed,
// an edit that changes nothing sends none, and an edit that also reopens
// sends both events.
func TestIssueWebhooks(t *testing.T) {
	s := New(t)
	s.CreateRepo(testRepo, RepoOptions{})
	s.CreateInstallation("acme")
	s.WaitForDeliveries()
	rc := listen(t, s)
	gh := installationClient(t, s, installationOf(t, s))
	ctx := t.Context()
	is := must[*github.Issue](t)(gh.Issues.Create(ctx, "acme", "infra", &github.IssueRequest{Title: github.String("Drift"), Body: github.String("one")}))
	n := is.GetNumber()
	must[*github.Issue](t)(gh.Issues.Edit(ctx, "acme", "infra", n, &github.IssueRequest{Title: github.String("Drift"), Body: github.String("one")}))
	must[*github.Issue](t)(gh.Issues.Edit(ctx, "acme", "infra", n, &github.IssueRequest{Body: github.String("two"), State: github.String("closed")}))
	must[*github.Issue](t)(gh.Issues.Edit(ctx, "acme", "infra", n, &github.IssueRequest{Title: github.String("Drift again"), State: github.String("open")}))
	s.WaitForDeliveries()
	var got []string
	var edits []*github.IssuesEvent
	for _, r := range rc.got() {
		ev, ok := r.parsed.(*github.IssuesEvent)
		if !ok {
			t.Fatalf("%s delivered as %T", r.event, r.parsed)
		}
		got = append(got, ev.GetAction())
		if ev.GetAction() == "edited" {
			edits = append(edits, ev)
		}
	}
	if len(edits) == 2 {
		if c := edits[0].GetChanges(); c.GetBody().GetFrom() != "one" || c.Title != nil {
			t.Errorf("first edit's changes = %+v, want the body from \"one\"", c)
		}
		if c := edits[1].GetChanges(); c.GetTitle().GetFrom() != "Drift" || c.Body != nil {
			t.Errorf("second edit's changes = %+v, want the title from \"Drift\"", c)
		}
	}
	if want := "opened,edited,closed,edited,reopened"; strings.Join(got, ",") != want {
		t.Errorf("issue events = %s, want %s", strings.Join(got, ","), want)
	}
}
