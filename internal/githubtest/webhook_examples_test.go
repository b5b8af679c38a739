package githubtest

import (
	"encoding/json"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-github/v60/github"
)

// webhookExample is one payload GitHub published in @octokit/webhooks-examples.
type webhookExample struct {
	Event, Action string
	Payload       map[string]any
}

var loadExamples = sync.OnceValues(func() (map[string][]webhookExample, error) {
	path, err := testdataFile(examplesPackage, "api.github.com", "index.json")
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var index []struct {
		Name     string           `json:"name"`
		Examples []map[string]any `json:"examples"`
	}
	if err := json.Unmarshal(raw, &index); err != nil {
		return nil, err
	}
	out := map[string][]webhookExample{}
	for _, ev := range index {
		for _, p := range ev.Examples {
			action, _ := p["action"].(string)
			out[ev.Name+"."+action] = append(out[ev.Name+"."+action], webhookExample{ev.Name, action, p})
		}
	}
	return out, nil
})

// examples returns GitHub's example payloads of event.action.
func examples(t *testing.T, event, action string) []webhookExample {
	t.Helper()
	all, err := loadExamples()
	if err != nil {
		t.Fatalf("webhook examples: %v", err)
	}
	return all[event+"."+action]
}

// TestInvalidWebhookPayloadIsAContractFailure: the schema check is not a
// formality. The emulator's own pull_request.opened payload passes it; the
// same payload without its number, with a state GitHub never sends, or without
// its head, is recorded as a webhook contract
// failure naming what is wrong. (GitHub's published examples are older than
// the schemas and fail them — missing auto_merge, topics, visibility — so
// they cannot serve as the valid baseline.)
func TestInvalidWebhookPayloadIsAContractFailure(t *testing.T) {
	s := New(t)
	rc := listen(t, s)
	s.CreateRepo(testRepo, RepoOptions{})
	s.CreateInstallation("acme")
	s.Commit(testRepo, "feature", map[string]string{"a.yaml": "a: 1\n"}, "add a")
	s.OpenPR(testRepo, PROptions{Head: "feature", Author: "alice"})
	s.WaitForDeliveries()
	var opened map[string]any
	for _, d := range rc.got() {
		if d.event == "pull_request" {
			if err := json.Unmarshal(d.payload, &opened); err != nil {
				t.Fatal(err)
			}
		}
	}
	if opened == nil || opened["action"] != "opened" {
		t.Fatalf("no pull_request.opened delivered")
	}
	if f := s.TakeContractFailures(); len(f) != 0 {
		t.Fatalf("the emulator's own payloads fail the schema check: %v", f)
	}

	for name, tc := range map[string]struct {
		break_ func(p map[string]any)
		want   string
	}{
		"missing number": {func(p map[string]any) { delete(p, "number") }, "number"},
		"bad state":      {func(p map[string]any) { p["pull_request"].(map[string]any)["state"] = "merged" }, "/pull_request/state"},
		"no head":        {func(p map[string]any) { delete(p["pull_request"].(map[string]any), "head") }, "head"},
	} {
		t.Run(name, func(t *testing.T) {
			p := deepCopy(t, opened)
			tc.break_(p)
			s.emit("pull_request", "opened", p)
			s.WaitForDeliveries()
			f := s.TakeContractFailures()
			if len(f) != 1 || f[0].Kind != "webhook" || f[0].Operation != "pull_request.opened" || !strings.Contains(f[0].Err, tc.want) {
				t.Fatalf("contract failures = %v, want one webhook failure about %s", f, tc.want)
			}
		})
	}
}

func deepCopy(t *testing.T, p map[string]any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// shapeObjects are the objects of a payload whose keys are compared with
// GitHub's examples, besides the payload's own top level.
var shapeObjects = []string{"pull_request", "issue", "comment", "review", "check_run", "check_suite", "merge_group", "repository", "sender", "installation"}

// contextKeys depend on who owns the repository and how the app is
// installed, not on the emulator: GitHub's examples come from many setups.
var contextKeys = map[string]bool{"organization": true, "enterprise": true, "installation": true}

// keysEveryExampleHas lists "obj.key" (or "key" at the top level) present
// in every example: what GitHub always sends.
func keysEveryExampleHas(exs []webhookExample) map[string]bool {
	var common map[string]bool
	for _, ex := range exs {
		keys := shapeKeys(ex.Payload)
		if common == nil {
			common = keys
			continue
		}
		for k := range common {
			if !keys[k] {
				delete(common, k)
			}
		}
	}
	return common
}

func shapeKeys(p map[string]any) map[string]bool {
	keys := map[string]bool{}
	for k := range p {
		keys[k] = true
	}
	for _, o := range shapeObjects {
		if m, ok := p[o].(map[string]any); ok {
			for k := range m {
				keys[o+"."+k] = true
			}
		}
	}
	return keys
}

// TestWebhookPayloadsShapedLikeGitHubs uses GitHub's example payloads for
// what the schemas leave open: a key the schema marks optional but GitHub
// sends in every example of an event is one a receiver may rely on, so the
// emulator must send it too. Each event the emulator emits in a pull
// request's life is compared, key by key at the top level and one level
// into its main objects.
func TestWebhookPayloadsShapedLikeGitHubs(t *testing.T) {
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
	s.Approve(testRepo, n, "bob")
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
	s.Merge(testRepo, n, "bob")
	s.WaitForDeliveries()

	compared := map[string]bool{}
	for _, d := range rc.got() {
		var p map[string]any
		if err := json.Unmarshal(d.payload, &p); err != nil {
			t.Fatal(err)
		}
		action, _ := p["action"].(string)
		key := d.event + "." + action
		exs := examples(t, d.event, action)
		if len(exs) == 0 {
			continue // GitHub published no example of this one
		}
		compared[key] = true
		ours := shapeKeys(p)
		var missing []string
		for k := range keysEveryExampleHas(exs) {
			if top, _, _ := strings.Cut(k, "."); !ours[k] && !contextKeys[top] && !contextKeys[k] {
				missing = append(missing, k)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("%s lacks what every GitHub example of it has: %s", key, strings.Join(missing, ", "))
		}
	}
	for _, want := range []string{"pull_request.opened", "pull_request.synchronize", "pull_request.closed", "issue_comment.created", "push.", "check_run.requested_action"} {
		if !compared[want] {
			t.Errorf("%s was not compared with GitHub's examples (compared: %v)", want, compared)
		}
	}
}
