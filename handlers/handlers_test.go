package handlers

import (
	"context"
	"encoding/json"
	"fmt"
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
	r.add(fmt.Sprintf("plan %s#%d %v", req.Repo, req.Number, req.Envs))
	return nil
}
func (r *recordingOps) Closed(_ context.Context, pr ops.PR, head string) error {
	r.add(fmt.Sprintf("closed %s#%d %s", pr.Repo, pr.Number, head))
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

// noClients hands out clients that the recorded operations never use.
type noClients struct{}

func (noClients) Installation(int64) (*gh.Client, error) {
	return gh.NewClient(nil, nil, nil, gh.TarballLimits{}), nil
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
	return &github.PullRequestEvent{
		Action: github.String(action), Number: github.Int(7), Repo: repoOf(repo), Changes: changes,
		Installation: &github.Installation{ID: github.Int64(1)},
		PullRequest: &github.PullRequest{Number: github.Int(7), Head: &github.PullRequestBranch{
			SHA: github.String("abc"), Repo: repoOf(headRepo)}},
	}
}

func TestPullRequestActions(t *testing.T) {
	baseChange := &github.EditChange{Base: &github.EditBase{Ref: &github.EditRef{From: github.String("old")}}}
	titleChange := &github.EditChange{Title: &github.EditTitle{From: github.String("old")}}
	cases := []struct {
		name string
		ev   *github.PullRequestEvent
		want string
	}{
		{"opened", prEvent("opened", "acme/infra", "acme/infra", nil), "plan acme/infra#7 []"},
		{"synchronize", prEvent("synchronize", "acme/infra", "acme/infra", nil), "plan acme/infra#7 []"},
		{"ready", prEvent("ready_for_review", "acme/infra", "acme/infra", nil), "plan acme/infra#7 []"},
		{"base changed", prEvent("edited", "acme/infra", "acme/infra", baseChange), "plan acme/infra#7 []"},
		{"title edited", prEvent("edited", "acme/infra", "acme/infra", titleChange), ""},
		{"labeled", prEvent("labeled", "acme/infra", "acme/infra", nil), ""},
		{"closed", prEvent("closed", "acme/infra", "acme/infra", nil), "closed acme/infra#7 abc"},
		{"fork", prEvent("opened", "acme/infra", "mallory/infra", nil), "note acme/infra#7 fork"},
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
	if got := strings.Join(rec.calls, "; "); got != "plan acme/infra#7 []" {
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
		{"apply", checkRunEvent("requested_action", "tugboat/staging", "apply"), "reply acme/infra#7 `/apply` is not available yet: this version of tugboat plans pull requests but does not apply them or take locks. The plan comment shows what applying would do."},
		{"early failure re-run", checkRunEvent("rerequested", "tugboat", ""), "plan acme/infra#7 []"},
		{"config re-run", checkRunEvent("rerequested", "tugboat/config", ""), "plan acme/infra#7 []"},
		{"someone else's check", checkRunEvent("rerequested", "ci/test", ""), ""},
		{"completed", checkRunEvent("completed", "tugboat/prod", ""), ""},
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
	}
	for want, ev := range cases {
		got := EventKey(githubapp.Dispatch{Payload: payload(t, ev)})
		if got != strings.TrimSpace(want) {
			t.Errorf("EventKey(%T) = %q, want %q", ev, got, strings.TrimSpace(want))
		}
	}
}
