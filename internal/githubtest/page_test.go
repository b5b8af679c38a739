package githubtest

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

func getPage(t *testing.T, s *Server, path string) string {
	t.Helper()
	resp, err := http.Get(s.URL() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return string(b)
}

func TestPullRequestPageRendersMarkdown(t *testing.T) {
	f := newFixture(t)
	n, head := f.openFeaturePR(t)
	plan := "## Plan for `staging`\n\n<details><summary>ConfigMap apps/app</summary>\n\n```diff\n-  color: blue\n+  color: green\n```\n\n</details>\n\n| kind | action |\n|---|---|\n| ConfigMap | update |\n"
	must[*github.IssueComment](t)(f.gh.Issues.CreateComment(f.ctx, "acme", "infra", n, &github.IssueComment{Body: github.String(plan)}))
	f.s.Comment(testRepo, n, "mallory", "<script>alert(1)</script> nice")
	must[*github.CheckRun](t)(f.gh.Checks.CreateCheckRun(f.ctx, "acme", "infra", github.CreateCheckRunOptions{
		Name: "tugboat/staging", HeadSHA: head, Conclusion: github.String("success"),
		Output:  &github.CheckRunOutput{Title: github.String("1 to update"), Summary: github.String("**1** change"), Text: github.String("```diff\n+x\n```")},
		Actions: []*github.CheckRunAction{{Label: "Apply", Description: "Apply to staging", Identifier: "apply"}},
	}))
	must[*github.RepoStatus](t)(f.gh.Repositories.CreateStatus(f.ctx, "acme", "infra", head, &github.RepoStatus{
		State: github.String("success"), Context: github.String("tugboat/staging/converged"), Description: github.String("converged <3"),
	}))

	html := getPage(t, f.s, "/acme/infra/pull/"+itoa(n))
	for _, want := range []string{
		"<details><summary>ConfigMap apps/app</summary>", // raw HTML from the comment survives
		`<pre><code class="language-diff">-  color: blue` + "\n+  color: green\n</code></pre>",
		"<h2>Plan for <code>staging</code></h2>",
		"<td>ConfigMap</td>", // GFM table
		"Turns the app <strong>green</strong>.",
		"<strong>1</strong> change", // check run summary as Markdown
		`<button name="identifier" value="apply" title="Apply to staging">Apply</button>`,
		"converged &lt;3", // anything not Markdown is escaped
		`id="mergeable-state">clean<`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Count(html, "<details><summary>ConfigMap apps/app</summary>") != 1 {
		t.Errorf("plan rendered more than once")
	}
	// A check run's html_url leads to it on the pull request's page.
	runs := f.s.CheckRuns(testRepo, head)
	run := must[*github.CheckRun](t)(f.gh.Checks.GetCheckRun(f.ctx, "acme", "infra", runs[0].ID))
	resp, err := http.Get(run.GetHTMLURL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/acme/infra/pull/"+itoa(n) || resp.Request.URL.Fragment != "" && resp.Request.URL.Fragment != "check-run-"+itoa64(run.GetID()) {
		t.Errorf("check run html_url led to %s", resp.Request.URL)
	}
	idx := getPage(t, f.s, "/")
	if !strings.Contains(idx, `href="/acme/infra/pull/1"`) {
		t.Errorf("index lacks the pull request link")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestPageForms: the page's forms do what the person would do on GitHub,
// webhooks included.
// A browser's request for /favicon.ico is answered, and is no contract
// failure: it comes with every page view.
func TestFaviconIsNoContractFailure(t *testing.T) {
	s := New(t, WithLogf(func(string, ...any) {}))
	resp, err := http.Get(s.URL() + "/favicon.ico")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("GET /favicon.ico: %s, want 204", resp.Status)
	}
	if f := s.TakeContractFailures(); len(f) != 0 {
		t.Errorf("GET /favicon.ico recorded contract failures: %v", f)
	}
}

func TestPageForms(t *testing.T) {
	f := newFixture(t)
	rc := listen(t, f.s)
	f.s.SetPermission(testRepo, "bob", "write")
	n, head := f.openFeaturePR(t)
	run := must[*github.CheckRun](t)(f.gh.Checks.CreateCheckRun(f.ctx, "acme", "infra", github.CreateCheckRunOptions{
		Name: "tugboat/staging", HeadSHA: head, Conclusion: github.String("success"),
		Output:  &github.CheckRunOutput{Title: github.String("plan"), Summary: github.String("ok")},
		Actions: []*github.CheckRunAction{{Label: "Apply", Description: "Apply", Identifier: "apply"}},
	}))
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(action string, form url.Values) string {
		t.Helper()
		resp, err := client.PostForm(f.s.URL()+"/acme/infra/pull/"+itoa(n)+"/"+action, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: status %d", action, resp.StatusCode)
		}
		return resp.Header.Get("Location")
	}
	post("comment", url.Values{"user": {"bob"}, "body": {"/apply"}})
	post("action", url.Values{"user": {"bob"}, "check_run": {itoa64(run.GetID())}, "identifier": {"apply"}})
	if loc := post("review", url.Values{"user": {"alice"}, "state": {"APPROVED"}}); !strings.Contains(loc, "error=") {
		t.Errorf("author approving own PR: redirected to %s, want an error", loc)
	}
	post("review", url.Values{"user": {"bob"}, "state": {"APPROVED"}})
	post("merge", url.Values{"user": {"bob"}, "method": {"merge"}})
	f.s.WaitForDeliveries()

	var seen []string
	for _, r := range rc.got() {
		seen = append(seen, r.event)
	}
	want := "issue_comment check_run pull_request_review pull_request push"
	if got := strings.Join(seen[len(seen)-5:], " "); got != want {
		t.Errorf("webhooks from the forms = %s, want %s", got, want)
	}
	if c := f.s.Comments(testRepo, n); len(c) != 1 || c[0].Author != "bob" || c[0].Body != "/apply" {
		t.Errorf("comments = %+v", c)
	}
	if pr := f.s.PR(testRepo, n); !pr.Merged {
		t.Errorf("not merged after the merge form")
	}
	html := getPage(t, f.s, "/acme/infra/pull/"+itoa(n))
	if !strings.Contains(html, `class="state merged"`) {
		t.Errorf("page does not show the merge")
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// TestPullRequestPageShowsStatusesAndDeployments: the page shows the head's
// latest status per context and who deployed it where, with the latest
// deployment state; once merged, the statuses on the merge commit too.
func TestPullRequestPageShowsStatusesAndDeployments(t *testing.T) {
	f := newFixture(t)
	n, head := f.openFeaturePR(t)
	for _, state := range []string{"pending", "success"} {
		must[*github.RepoStatus](t)(f.gh.Repositories.CreateStatus(f.ctx, "acme", "infra", head, &github.RepoStatus{
			State: github.String(state), Context: github.String("tugboat/apply/staging"), Description: github.String("converged in 14s: +2 ~3 −1 (" + state + ")"),
		}))
	}
	d := must[*github.Deployment](t)(f.gh.Repositories.CreateDeployment(f.ctx, "acme", "infra", &github.DeploymentRequest{
		Ref: github.String(head), Environment: github.String("staging"), AutoMerge: github.Bool(false), RequiredContexts: noContexts(),
	}))
	for _, state := range []string{"in_progress", "success"} {
		must[*github.DeploymentStatus](t)(f.gh.Repositories.CreateDeploymentStatus(f.ctx, "acme", "infra", d.GetID(), &github.DeploymentStatusRequest{
			State: github.String(state), Description: github.String("applied at " + state), EnvironmentURL: github.String("https://staging.example"),
			LogURL: github.String("https://ci.example/log"),
		}))
	}
	// Deployments of other commits are not this pull request's.
	must[*github.Deployment](t)(f.gh.Repositories.CreateDeployment(f.ctx, "acme", "infra", &github.DeploymentRequest{
		Ref: github.String("main"), Environment: github.String("prod"), AutoMerge: github.Bool(false), RequiredContexts: noContexts(),
	}))

	html := getPage(t, f.s, "/acme/infra/pull/"+itoa(n))
	for _, want := range []string{
		`<b>tugboat/apply/staging</b> <span class="success">success</span> — converged in 14s: &#43;2 ~3 −1 (success)`,
		`<b>tugboat[bot]</b> deployed to <b>staging</b> at <code>` + head[:7] + `</code> — <span class="success">success</span>`,
		`applied at success · <a href="https://staging.example">view deployment</a> · <a href="https://ci.example/log">log</a>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, unwanted := range []string{"−1 (pending)", "deployed to <b>prod</b>"} {
		if strings.Contains(html, unwanted) {
			t.Errorf("page shows %q", unwanted)
		}
	}

	merge := f.s.Merge(testRepo, n, "bob")
	f.s.SetStatus(testRepo, merge, "tugboat/apply/prod", "success", "tugboat[bot]")
	html = getPage(t, f.s, "/acme/infra/pull/"+itoa(n))
	if !strings.Contains(html, `<p class="status merge-status"><b>tugboat/apply/prod</b> <span class="success">success</span>`) {
		t.Errorf("merged page lacks the merge commit's status")
	}
}

// TestPageMergeQueueForm: on a branch with a merge queue the page offers
// "Merge when ready", which enqueues, and then shows the position.
func TestPageMergeQueueForm(t *testing.T) {
	f := newFixture(t)
	f.s.RequireMergeQueue(testRepo, "main")
	f.s.Protect(testRepo, "main", BranchProtection{RequiredContexts: []string{"ci"}})
	n, head := f.openFeaturePR(t)
	f.s.SetStatus(testRepo, head, "ci", "success", "ci-bot")
	html := getPage(t, f.s, "/acme/infra/pull/"+itoa(n))
	if !strings.Contains(html, "Merge when ready") || strings.Contains(html, "Merge pull request</button>") {
		t.Fatalf("page does not offer the merge queue")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(f.s.URL()+"/acme/infra/pull/"+itoa(n)+"/enqueue", url.Values{"user": {"bob"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); strings.Contains(loc, "error=") {
		t.Fatalf("enqueue form: %s", loc)
	}
	if q := f.s.MergeQueue(testRepo, "main"); len(q) != 1 {
		t.Fatalf("queue = %+v", q)
	}
	if html := getPage(t, f.s, "/acme/infra/pull/"+itoa(n)); !strings.Contains(html, "position 1 in the merge queue") {
		t.Errorf("page does not show the queued pull request")
	}
}

// TestIssuePage: an issue's html_url is a page with its title, state,
// labels, Markdown body and comments; the index links it.
func TestIssuePage(t *testing.T) {
	f := newFixture(t)
	is := must[*github.Issue](t)(f.gh.Issues.Create(f.ctx, "acme", "infra", &github.IssueRequest{
		Title: github.String("Drift in prod"), Body: github.String("<!-- marker -->\n```diff\n-  replicas: 5\n+  replicas: 2\n```\n"),
		Labels: &[]string{"tugboat/drift"},
	}))
	must[*github.IssueComment](t)(f.gh.Issues.CreateComment(f.ctx, "acme", "infra", is.GetNumber(), &github.IssueComment{Body: github.String("**gone**")}))
	must[*github.Issue](t)(f.gh.Issues.Edit(f.ctx, "acme", "infra", is.GetNumber(), &github.IssueRequest{State: github.String("closed")}))
	html := getPage(t, f.s, "/acme/infra/issues/"+itoa(is.GetNumber()))
	for _, want := range []string{
		"<h1>Drift in prod", `<span class="state closed">Closed</span>`, `<code class="label">tugboat/drift</code>`,
		`<pre><code class="language-diff">-  replicas: 5`, "<strong>gone</strong>",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("issue page lacks %q", want)
		}
	}
	resp, err := http.Get(is.GetHTMLURL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/acme/infra/issues/"+itoa(is.GetNumber()) {
		t.Errorf("html_url %s answered %s", is.GetHTMLURL(), resp.Status)
	}
	if idx := getPage(t, f.s, "/"); !strings.Contains(idx, `href="/acme/infra/issues/`+itoa(is.GetNumber())+`"`) {
		t.Errorf("index lacks the issue link")
	}
	missing, err := http.Get(f.s.URL() + "/acme/infra/issues/999")
	if err != nil {
		t.Fatal(err)
	}
	missing.Body.Close()
	if missing.StatusCode != http.StatusNotFound {
		t.Errorf("a missing issue's page answered %s", missing.Status)
	}
}
