package githubtest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

func TestCommentEndpoints(t *testing.T) {
	f := newFixture(t)
	n, _ := f.openFeaturePR(t)
	human := f.s.Comment(testRepo, n, "alice", "/plan")

	c := must[*github.IssueComment](t)(f.gh.Issues.CreateComment(f.ctx, "acme", "infra", n, &github.IssueComment{Body: github.String("## Plan\n\nnothing to do")}))
	if c.GetUser().GetLogin() != "tugboat[bot]" || c.GetNodeID() == "" {
		t.Errorf("comment by %q node %q, want tugboat[bot] with a node id", c.GetUser().GetLogin(), c.GetNodeID())
	}
	edited := must[*github.IssueComment](t)(f.gh.Issues.EditComment(f.ctx, "acme", "infra", c.GetID(), &github.IssueComment{Body: github.String("## Plan\n\none change")}))
	if edited.GetBody() != "## Plan\n\none change" {
		t.Errorf("edited body = %q", edited.GetBody())
	}
	got := must[*github.IssueComment](t)(f.gh.Issues.GetComment(f.ctx, "acme", "infra", c.GetID()))
	if got.GetBody() != edited.GetBody() {
		t.Errorf("get after edit = %q", got.GetBody())
	}

	list := must[[]*github.IssueComment](t)(f.gh.Issues.ListComments(f.ctx, "acme", "infra", n, nil))
	if len(list) != 2 || list[0].GetID() != human || list[1].GetID() != c.GetID() {
		t.Fatalf("comments = %d, want alice's then the bot's", len(list))
	}

	r := must[*github.Reaction](t)(f.gh.Reactions.CreateIssueCommentReaction(f.ctx, "acme", "infra", human, "eyes"))
	if r.GetContent() != "eyes" {
		t.Errorf("reaction = %q", r.GetContent())
	}
	rs := must[[]*github.Reaction](t)(f.gh.Reactions.ListIssueCommentReactions(f.ctx, "acme", "infra", human, nil))
	if len(rs) != 1 || rs[0].GetUser().GetLogin() != "tugboat[bot]" {
		t.Errorf("reactions = %+v", rs)
	}
	if got := f.s.Reactions(testRepo, human); len(got) != 1 || got[0].Content != "eyes" {
		t.Errorf("inspected reactions = %+v", got)
	}

	if _, err := f.gh.Issues.DeleteComment(f.ctx, "acme", "infra", c.GetID()); err != nil {
		t.Fatal(err)
	}
	if got := f.s.Comments(testRepo, n); len(got) != 1 || got[0].Author != "alice" {
		t.Errorf("after delete: %+v", got)
	}
}

func TestCommentBodyLimit(t *testing.T) {
	f := newFixture(t)
	n, _ := f.openFeaturePR(t)
	_, resp, err := f.gh.Issues.CreateComment(f.ctx, "acme", "infra", n, &github.IssueComment{Body: github.String(strings.Repeat("x", 65537))})
	if resp == nil || resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), "body is too long (maximum is 65536 characters)") {
		t.Fatalf("65537 characters: err = %v, want 422 body is too long", err)
	}
	// Exactly at the limit, counted in characters, not bytes.
	if _, _, err := f.gh.Issues.CreateComment(f.ctx, "acme", "infra", n, &github.IssueComment{Body: github.String(strings.Repeat("é", 65536))}); err != nil {
		t.Fatalf("65536 characters: %v", err)
	}
}

func TestReviewEndpoints(t *testing.T) {
	f := newFixture(t)
	n, head := f.openFeaturePR(t)
	f.s.Approve(testRepo, n, "bob")
	bobToken := f.s.UserToken("carol")
	carol := github.NewClient(nil).WithAuthToken(bobToken)
	carol.BaseURL = f.gh.BaseURL
	f.s.SetPermission(testRepo, "carol", "write")
	rv := must[*github.PullRequestReview](t)(carol.PullRequests.CreateReview(f.ctx, "acme", "infra", n, &github.PullRequestReviewRequest{Event: github.String("REQUEST_CHANGES"), Body: github.String("not yet")}))
	if rv.GetState() != "CHANGES_REQUESTED" || rv.GetCommitID() != head || rv.GetUser().GetLogin() != "carol" {
		t.Errorf("review = %s at %s by %s", rv.GetState(), rv.GetCommitID(), rv.GetUser().GetLogin())
	}
	list := must[[]*github.PullRequestReview](t)(f.gh.PullRequests.ListReviews(f.ctx, "acme", "infra", n, nil))
	if len(list) != 2 || list[0].GetState() != "APPROVED" || list[0].GetUser().GetLogin() != "bob" {
		t.Fatalf("reviews = %d", len(list))
	}
	d := must[*github.PullRequestReview](t)(f.gh.PullRequests.DismissReview(f.ctx, "acme", "infra", n, rv.GetID(), &github.PullRequestReviewDismissalRequest{Message: github.String("stale")}))
	if d.GetState() != "DISMISSED" {
		t.Errorf("dismissed review state = %s", d.GetState())
	}
}

func TestIssueEndpoints(t *testing.T) {
	f := newFixture(t)
	is := must[*github.Issue](t)(f.gh.Issues.Create(f.ctx, "acme", "infra", &github.IssueRequest{
		Title: github.String("Drift in prod"), Body: github.String("ConfigMap app changed"), Labels: &[]string{"tugboat-drift"},
	}))
	if is.GetNumber() != 1 || is.GetState() != "open" || len(is.Labels) != 1 {
		t.Fatalf("issue = #%d %s labels %v", is.GetNumber(), is.GetState(), is.Labels)
	}
	found := must[[]*github.Issue](t)(f.gh.Issues.ListByRepo(f.ctx, "acme", "infra", &github.IssueListByRepoOptions{Labels: []string{"tugboat-drift"}}))
	if len(found) != 1 || found[0].GetTitle() != "Drift in prod" {
		t.Errorf("list by label = %d", len(found))
	}
	upd := must[*github.Issue](t)(f.gh.Issues.Edit(f.ctx, "acme", "infra", 1, &github.IssueRequest{Body: github.String("resolved"), State: github.String("closed")}))
	if upd.GetState() != "closed" || upd.GetBody() != "resolved" || upd.ClosedAt == nil {
		t.Errorf("after close: %s %q", upd.GetState(), upd.GetBody())
	}
	if got := f.s.Issues(testRepo); len(got) != 1 || got[0].State != "closed" {
		t.Errorf("inspected issues = %+v", got)
	}
	open := must[[]*github.Issue](t)(f.gh.Issues.ListByRepo(f.ctx, "acme", "infra", nil))
	if len(open) != 0 {
		t.Errorf("open issues after close = %d", len(open))
	}
	one := must[*github.Issue](t)(f.gh.Issues.Get(f.ctx, "acme", "infra", 1))
	if one.GetTitle() != "Drift in prod" {
		t.Errorf("get = %q", one.GetTitle())
	}
}

// TestReviewsKeepTheirCommit: a review carries the head it was given on,
// later pushes do not move it; dismissals turn approvals and change
// requests into DISMISSED (and nothing else), all listed in order.
func TestReviewsKeepTheirCommit(t *testing.T) {
	f := newFixture(t)
	n, first := f.openFeaturePR(t)
	approval := f.s.Approve(testRepo, n, "bob")
	second := f.s.Commit(testRepo, "feature", map[string]string{"deploy/more.yaml": "kind: ConfigMap\n"}, "more")
	comment := f.s.Review(testRepo, n, "carol", "COMMENTED", "looks fine")
	changes := f.s.Review(testRepo, n, "dave", "CHANGES_REQUESTED", "no")
	f.s.DismissReview(testRepo, n, changes, "acme")
	_, resp, err := f.gh.PullRequests.DismissReview(f.ctx, "acme", "infra", n, comment, &github.PullRequestReviewDismissalRequest{Message: github.String("x")})
	if resp == nil || resp.StatusCode != 422 || !strings.Contains(err.Error(), "Can not dismiss a commented pull request review") {
		t.Errorf("dismissing a comment: %v", err)
	}
	list := must[[]*github.PullRequestReview](t)(f.gh.PullRequests.ListReviews(f.ctx, "acme", "infra", n, nil))
	var got []string
	for _, rv := range list {
		got = append(got, rv.GetUser().GetLogin()+":"+rv.GetState()+"@"+rv.GetCommitID()[:7])
	}
	want := []string{"bob:APPROVED@" + first[:7], "carol:COMMENTED@" + second[:7], "dave:DISMISSED@" + second[:7]}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("reviews = %v, want %v", got, want)
	}
	if list[0].GetID() != approval || list[0].SubmittedAt == nil {
		t.Errorf("first review = %d submitted %v", list[0].GetID(), list[0].SubmittedAt)
	}
}
