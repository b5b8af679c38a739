package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-github/v60/github"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/ops"
)

// recordingOps records what the handlers asked for.
type recordingOps struct {
	mu    sync.Mutex
	calls []string
}

func (r *recordingOps) add(s string) { r.mu.Lock(); r.calls = append(r.calls, s); r.mu.Unlock() }

func (r *recordingOps) PlanPR(_ context.Context, req ops.PlanRequest) error {
	if req.IfNotPlanned {
		r.add(fmt.Sprintf("plan %s#%d %v if not planned", req.Repo, req.Number, req.Envs))
		return nil
	}
	r.add(fmt.Sprintf("plan %s#%d %v", req.Repo, req.Number, req.Envs))
	return nil
}
func (r *recordingOps) Closed(_ context.Context, req ops.CloseRequest) error {
	r.add(fmt.Sprintf("closed %s#%d %s merged=%v by %s", req.Repo, req.Number, req.Head, req.Merged, req.Actor))
	return nil
}
func (r *recordingOps) ApplyPR(_ context.Context, req ops.ApplyRequest) error {
	r.add(fmt.Sprintf("apply %s#%d %v by %s via %s head=%q dangerous=%v detach=%v", req.Repo, req.Number, req.Envs, req.Actor,
		req.Trigger, req.ButtonHead, req.AllowDangerous, req.Detach != nil))
	return nil
}
func (r *recordingOps) Unlock(_ context.Context, req ops.UnlockRequest) error {
	r.add(fmt.Sprintf("unlock %s#%d %v by %s", req.Repo, req.Number, req.Envs, req.Actor))
	return nil
}
func (r *recordingOps) Promote(_ context.Context, req ops.PromoteRequest) error {
	r.add(fmt.Sprintf("promote %s#%d %s to %s by %s", req.Repo, req.Number, req.From, req.To, req.Actor))
	return nil
}
func (r *recordingOps) Rollback(_ context.Context, req ops.RollbackRequest) error {
	r.add(fmt.Sprintf("rollback %s#%d env=%q now=%v by %s", req.Repo, req.Number, req.Env, req.Now, req.Actor))
	return nil
}
func (r *recordingOps) Unpin(_ context.Context, req ops.UnpinRequest) error {
	r.add(fmt.Sprintf("unpin %s#%d %v by %s", req.Repo, req.Number, req.Envs, req.Actor))
	return nil
}
func (r *recordingOps) ReviewChanged(_ context.Context, pr ops.PR) error {
	r.add(fmt.Sprintf("review %s#%d", pr.Repo, pr.Number))
	return nil
}
func (r *recordingOps) MergeGroup(_ context.Context, req ops.MergeGroupRequest) error {
	r.add(fmt.Sprintf("merge group %s %s on %s", req.Repo, req.HeadSHA, req.BaseSHA))
	return nil
}
func (r *recordingOps) DeployPush(_ context.Context, req ops.PushRequest) error {
	r.add(fmt.Sprintf("deploy %s %s@%s by %s", req.Repo, req.Branch, req.SHA, req.Pusher))
	return nil
}
func (r *recordingOps) NoteOnce(_ context.Context, pr ops.PR, key, _ string) error {
	r.add(fmt.Sprintf("note %s#%d %s", pr.Repo, pr.Number, key))
	return nil
}
func (r *recordingOps) Reply(_ context.Context, pr ops.PR, body string) error {
	first, _, _ := strings.Cut(body, "\n")
	r.add(fmt.Sprintf("reply %s#%d %s", pr.Repo, pr.Number, first))
	return nil
}

// noClients hands out clients whose every call GitHub answers with 404:
// the handlers' own calls (a reaction) fail and are only logged; the
// recorded operations never use them.
type noClients struct{}

var notFoundAPI = httptest.NewServer(http.NotFoundHandler())

func (noClients) Installation(int64) (*gh.Client, error) {
	v3 := github.NewClient(notFoundAPI.Client())
	u, _ := url.Parse(notFoundAPI.URL + "/")
	v3.BaseURL = u
	return gh.NewClient(v3, nil, nil, gh.TarballLimits{}), nil
}

func newBase(rec *recordingOps) *Base {
	return &Base{Clients: noClients{}, Ops: rec, AppSlug: "tugboat", BotLogin: "tugboat[bot]",
		Allowed: func(r string) bool { return !strings.HasPrefix(r, "other/") }}
}

func payload(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func repoOf(full string) *github.Repository { return &github.Repository{FullName: github.String(full)} }

func prEvent(action, repo, headRepo string, changes *github.EditChange) *github.PullRequestEvent {
	head := &github.PullRequestBranch{SHA: github.String("abc")}
	if headRepo != "" {
		head.Repo = repoOf(headRepo)
	}
	return &github.PullRequestEvent{
		Action: github.String(action), Number: github.Int(7), Repo: repoOf(repo), Changes: changes,
		Installation: &github.Installation{ID: github.Int64(1)}, Sender: &github.User{Login: github.String("alice")},
		PullRequest: &github.PullRequest{Number: github.Int(7), Head: head},
	}
}

func merged(ev *github.PullRequestEvent) *github.PullRequestEvent {
	ev.PullRequest.Merged = github.Bool(true)
	return ev
}

func TestPullRequestActions(t *testing.T) {
	baseChange := &github.EditChange{Base: &github.EditBase{Ref: &github.EditRef{From: github.String("old")}}}
	titleChange := &github.EditChange{Title: &github.EditTitle{From: github.String("old")}}
	cases := []struct {
		name string
		ev   *github.PullRequestEvent
		want string
	}{
		{"opened", prEvent("opened", "acme/infra", "acme/infra", nil), "plan acme/infra#7 [] if not planned"},
		{"synchronize", prEvent("synchronize", "acme/infra", "acme/infra", nil), "plan acme/infra#7 [] if not planned"},
		{"ready", prEvent("ready_for_review", "acme/infra", "acme/infra", nil), "plan acme/infra#7 [] if not planned"},
		{"base changed", prEvent("edited", "acme/infra", "acme/infra", baseChange), "plan acme/infra#7 []"},
		{"title edited", prEvent("edited", "acme/infra", "acme/infra", titleChange), ""},
		{"labeled", prEvent("labeled", "acme/infra", "acme/infra", nil), ""},
		{"closed", prEvent("closed", "acme/infra", "acme/infra", nil), "closed acme/infra#7 abc merged=false by alice"},
		{"merged", merged(prEvent("closed", "acme/infra", "acme/infra", nil)), "closed acme/infra#7 abc merged=true by alice"},
		{"fork", prEvent("opened", "acme/infra", "mallory/infra", nil), "note acme/infra#7 fork"},
		// A deleted fork's PR has no head repository: it is still a fork.
		{"deleted fork", prEvent("opened", "acme/infra", "", nil), "note acme/infra#7 fork"},
		{"not allowed", prEvent("opened", "other/infra", "other/infra", nil), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := &recordingOps{}
			if err := (PullRequest{newBase(rec)}).Handle(context.Background(), "pull_request", "d", payload(t, c.ev)); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(rec.calls, "; "); got != c.want {
				t.Errorf("calls = %q, want %q", got, c.want)
			}
		})
	}
}

func TestForkPlannedWhenAllowed(t *testing.T) {
	rec := &recordingOps{}
	b := newBase(rec)
	b.AllowForkPlans = true
	if err := (PullRequest{b}).Handle(context.Background(), "pull_request", "d", payload(t, prEvent("opened", "acme/infra", "mallory/infra", nil))); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rec.calls, "; "); got != "plan acme/infra#7 [] if not planned" {
		t.Errorf("calls = %q", got)
	}
}

func commentEvent(action, author, body string, onPR bool) *github.IssueCommentEvent {
	issue := &github.Issue{Number: github.Int(7)}
	if onPR {
		issue.PullRequestLinks = &github.PullRequestLinks{URL: github.String("u")}
	}
	return &github.IssueCommentEvent{Action: github.String(action), Repo: repoOf("acme/infra"), Issue: issue,
		Installation: &github.Installation{ID: github.Int64(1)},
		Comment:      &github.IssueComment{ID: github.Int64(5), Body: github.String(body), User: &github.User{Login: github.String(author)}}}
}

// Comments that are not commands for tugboat never reach GitHub or ops;
// usage errors are answered without a reaction.
func TestIssueCommentIgnoresAndUsage(t *testing.T) {
	cases := []struct {
		name string
		ev   *github.IssueCommentEvent
		want string
	}{
		{"own comment", commentEvent("created", "tugboat[bot]", "/plan", true), ""},
		{"edited", commentEvent("edited", "alice", "/plan", true), ""},
		{"issue, not PR", commentEvent("created", "alice", "/plan", false), ""},
		{"issue, revert", commentEvent("created", "alice", "/rollback", false), ""},
		{"other bot's command", commentEvent("created", "alice", "/lgtm", true), ""},
		{"plain text", commentEvent("created", "alice", "nice\n/plan", true), ""},
		{"near miss", commentEvent("created", "alice", "/plam", true), "reply acme/infra#7 Unknown command `/plam` — did you mean `/plan`?"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := &recordingOps{}
			if err := (IssueComment{newBase(rec)}).Handle(context.Background(), "issue_comment", "d", payload(t, c.ev)); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(rec.calls, "; "); got != c.want {
				t.Errorf("calls = %q, want %q", got, c.want)
			}
		})
	}
}

func checkRunEvent(action, name, identifier string) *github.CheckRunEvent {
	ev := &github.CheckRunEvent{Action: github.String(action), Repo: repoOf("acme/infra"),
		Installation: &github.Installation{ID: github.Int64(1)}, Sender: &github.User{Login: github.String("alice")},
		CheckRun: &github.CheckRun{Name: github.String(name), HeadSHA: github.String("abc"),
			PullRequests: []*github.PullRequest{{Number: github.Int(7)}}}}
	if identifier != "" {
		ev.RequestedAction = &github.RequestedAction{Identifier: identifier}
	}
	return ev
}

func TestCheckRunActions(t *testing.T) {
	cases := []struct {
		name string
		ev   *github.CheckRunEvent
		want string
	}{
		{"re-run", checkRunEvent("rerequested", "tugboat/prod", ""), "plan acme/infra#7 [prod]"},
		{"re-plan", checkRunEvent("requested_action", "tugboat/staging", "plan"), "plan acme/infra#7 [staging]"},
		{"apply", checkRunEvent("requested_action", "tugboat/staging", "apply"), `apply acme/infra#7 [staging] by alice via button head="abc" dangerous=false detach=true`},
		{"apply on the early-failure run", checkRunEvent("requested_action", "tugboat", "apply"), ""},
		{"early failure re-run", checkRunEvent("rerequested", "tugboat", ""), "plan acme/infra#7 []"},
		{"config re-run", checkRunEvent("rerequested", "tugboat/config", ""), "plan acme/infra#7 []"},
		{"someone else's check", checkRunEvent("rerequested", "ci/test", ""), ""},
		{"completed", checkRunEvent("completed", "tugboat/prod", ""), ""},
		{"promote", checkRunEvent("requested_action", "tugboat/staging", "promote-prod"), "promote acme/infra#7 staging to prod by alice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := &recordingOps{}
			if err := (CheckRun{newBase(rec)}).Handle(context.Background(), "check_run", "d", payload(t, c.ev)); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(rec.calls, "; "); got != c.want {
				t.Errorf("calls = %q, want %q", got, c.want)
			}
		})
	}
}

func TestEventKey(t *testing.T) {
	cases := map[string]any{
		"acme/infra#7":   prEvent("opened", "acme/infra", "acme/infra", nil),
		"acme/infra#7 ":  commentEvent("created", "alice", "/plan", true),
		"acme/infra#7  ": checkRunEvent("rerequested", "tugboat/prod", ""),
		"acme/infra@abc": &github.CheckRunEvent{Repo: repoOf("acme/infra"), CheckRun: &github.CheckRun{HeadSHA: github.String("abc")}},
		"acme/infra   ":  &github.PushEvent{Repo: &github.PushEventRepository{FullName: github.String("acme/infra")}},
		"acme/infra#7   ": &github.PullRequestReviewEvent{Repo: repoOf("acme/infra"), PullRequest: &github.PullRequest{Number: github.Int(7)},
			Review: &github.PullRequestReview{ID: github.Int64(99)}},
	}
	for want, ev := range cases {
		got := EventKey(githubapp.Dispatch{Payload: payload(t, ev)})
		if got != strings.TrimSpace(want) {
			t.Errorf("EventKey(%T) = %q, want %q", ev, got, strings.TrimSpace(want))
		}
	}
}

func TestIssueCommentCommands(t *testing.T) {
	cases := []struct {
		name, body, want string
	}{
		{"apply", "/apply staging --allow-dangerous", `apply acme/infra#7 [staging] by alice via comment head="" dangerous=true detach=true`},
		{"apply all", "/apply", `apply acme/infra#7 [] by alice via comment head="" dangerous=false detach=true`},
		{"unlock", "/unlock prod", "unlock acme/infra#7 [prod] by alice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := &recordingOps{}
			err := (IssueComment{newBase(rec)}).Handle(context.Background(), "issue_comment", "d", payload(t, commentEvent("created", "alice", c.body, true)))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(rec.calls, "; "); got != c.want {
				t.Errorf("calls = %q, want %q", got, c.want)
			}
		})
	}
}

func pushEvent(ref, after string, deleted bool) *github.PushEvent {
	return &github.PushEvent{Ref: github.String(ref), After: github.String(after), Deleted: github.Bool(deleted),
		Repo:         &github.PushEventRepository{FullName: github.String("acme/infra"), DefaultBranch: github.String("main")},
		Installation: &github.Installation{ID: github.Int64(1)}, Sender: &github.User{Login: github.String("alice")}}
}

func TestPushDeploysTheDefaultBranchOnly(t *testing.T) {
	cases := []struct {
		name string
		ev   *github.PushEvent
		want string
	}{
		{"default branch", pushEvent("refs/heads/main", "abc", false), "deploy acme/infra main@abc by alice"},
		{"other branch", pushEvent("refs/heads/feature", "abc", false), ""},
		{"tag", pushEvent("refs/tags/main", "abc", false), ""},
		{"deleted", pushEvent("refs/heads/main", zeroSHA, true), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := &recordingOps{}
			if err := (Push{newBase(rec)}).Handle(context.Background(), "push", "d", payload(t, c.ev)); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(rec.calls, "; "); got != c.want {
				t.Errorf("calls = %q, want %q", got, c.want)
			}
		})
	}
}

func TestMergeGroupChecksRequested(t *testing.T) {
	ev := func(action string) *github.MergeGroupEvent {
		return &github.MergeGroupEvent{Action: github.String(action), Repo: repoOf("acme/infra"),
			Installation: &github.Installation{ID: github.Int64(1)},
			MergeGroup: &github.MergeGroup{HeadSHA: github.String("group"), BaseSHA: github.String("base"),
				HeadRef: github.String("refs/heads/gh-readonly-queue/main/pr-7-abc")}}
	}
	for action, want := range map[string]string{"checks_requested": "merge group acme/infra group on base", "destroyed": ""} {
		rec := &recordingOps{}
		if err := (MergeGroup{newBase(rec)}).Handle(context.Background(), "merge_group", "d", payload(t, ev(action))); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(rec.calls, "; "); got != want {
			t.Errorf("%s: calls = %q, want %q", action, got, want)
		}
	}
}

// The release commands work on pull requests and issues alike; commands
// about a pull request stay unanswered on an issue.
func TestIssueCommentReleaseCommands(t *testing.T) {
	cases := []struct {
		name, body string
		onPR       bool
		want       string
	}{
		{"promote on a PR", "/promote staging prod", true, "promote acme/infra#7 staging to prod by alice"},
		{"promote on an issue", "/promote staging prod", false, "promote acme/infra#7 staging to prod by alice"},
		{"revert on a PR", "/rollback", true, `rollback acme/infra#7 env="" now=false by alice`},
		{"revert on an issue", "/rollback", false, ""},
		{"break glass on an issue", "/rollback prod --now", false, `rollback acme/infra#7 env="prod" now=true by alice`},
		{"unpin on an issue", "/unpin prod", false, "unpin acme/infra#7 [prod] by alice"},
		{"apply on an issue", "/apply prod", false, ""},
		{"usage on an issue", "/promote prod", false, "reply acme/infra#7 `/promote` takes two environments: `/promote FROM TO`, like `/promote staging prod`."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := &recordingOps{}
			err := (IssueComment{newBase(rec)}).Handle(context.Background(), "issue_comment", "d", payload(t, commentEvent("created", "alice", c.body, c.onPR)))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(rec.calls, "; "); got != c.want {
				t.Errorf("calls = %q, want %q", got, c.want)
			}
		})
	}
}

// TestBaseEventKeyInert: events no handler acts on get no key, so the
// queue runs them without taking a pull request's lease; the rest keep
// EventKey's.
func TestBaseEventKeyInert(t *testing.T) {
	b := newBase(&recordingOps{})
	push := func(ref string) *github.PushEvent {
		return &github.PushEvent{Ref: github.String(ref), Repo: &github.PushEventRepository{FullName: github.String("acme/infra"), DefaultBranch: github.String("main")}}
	}
	cases := []struct {
		name, event string
		ev          any
		want        string
	}{
		{"push to main", "push", push("refs/heads/main"), "acme/infra"},
		{"push to a branch", "push", push("refs/heads/feature"), ""},
		{"command", "issue_comment", commentEvent("created", "alice", "/plan", true), "acme/infra#7"},
		{"own comment", "issue_comment", commentEvent("created", b.BotLogin, "<!-- tugboat:plan -->", true), ""},
		{"edited comment", "issue_comment", commentEvent("edited", "alice", "/plan", true), ""},
		{"re-run", "check_run", checkRunEvent("rerequested", "tugboat/prod", ""), "acme/infra#7"},
		{"run completed", "check_run", checkRunEvent("completed", "tugboat/prod", ""), ""},
		{"opened", "pull_request", prEvent("opened", "acme/infra", "acme/infra", nil), "acme/infra#7"},
	}
	for _, c := range cases {
		if got := b.EventKey(githubapp.Dispatch{EventType: c.event, Payload: payload(t, c.ev)}); got != c.want {
			t.Errorf("%s: key %q, want %q", c.name, got, c.want)
		}
	}
}
