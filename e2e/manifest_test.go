package e2e

import (
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/palantir/go-githubapp/githubapp"
	yaml "go.yaml.in/yaml/v3"

	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/internal/githubtest"
)

// app.yaml asks for exactly the permissions and events the bot uses: a
// missing one breaks an installation silently, an extra one is a needless
// ask of every organisation installing it. What the bot uses is derived,
// not listed here: the events from the Handles() of the handlers cmd/bot
// wires, the permissions by making every gh call against the emulator
// (which answers a call the installation's permissions do not cover with
// GitHub's 403) with exactly app.yaml's permissions, and then with each
// of them one level lower.
func TestAppManifest(t *testing.T) {
	m := readManifest(t)
	if url, _ := m.HookAttributes["url"].(string); !strings.HasSuffix(url, "/api/github/hook") {
		t.Errorf("hook url %q does not end in the bot's webhook route", url)
	}
	t.Run("events", func(t *testing.T) { checkEvents(t, m.Events) })
	t.Run("permissions", func(t *testing.T) { checkPermissions(t, m.Permissions, m.Events) })
}

type manifest struct {
	HookAttributes map[string]any    `yaml:"hook_attributes"`
	Permissions    map[string]string `yaml:"default_permissions"`
	Events         []string          `yaml:"default_events"`
}

func readManifest(t *testing.T) manifest {
	t.Helper()
	data, err := os.ReadFile("../app.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&m); err != nil {
		t.Fatalf("app.yaml: %v", err)
	}
	return m
}

// comingEvents are subscribed ahead of the handler that uses them, while
// that handler is being built in another branch; each entry goes once the
// handler is wired (the test says so).
var comingEvents = map[string]string{}

// checkEvents: every event a wired handler handles is subscribed, and
// every subscription is handled. installation is delivered to every App
// unasked, so the manifest does not list it.
func checkEvents(t *testing.T, subscribed []string) {
	handled := handledEvents(t)
	delete(handled, "installation")
	asked := map[string]bool{}
	for _, e := range subscribed {
		asked[e] = true
		switch {
		case e == "installation":
			t.Errorf("app.yaml subscribes to installation, which every App gets unasked")
		case handled[e] && comingEvents[e] != "":
			t.Errorf("%s is handled now: remove it from comingEvents", e)
		case !handled[e] && comingEvents[e] == "":
			t.Errorf("app.yaml subscribes to %s, which no handler wired in cmd/bot handles", e)
		}
	}
	for _, e := range sortedSet(handled) {
		if !asked[e] {
			t.Errorf("a handler handles %s, but app.yaml does not subscribe to it: GitHub would never send it", e)
		}
	}
}

// handledEvents reads, from the source, which handlers cmd/bot wires
// (composite literals handlers.X{...}) and what each one's Handles()
// returns (a []string literal).
func handledEvents(t *testing.T) map[string]bool {
	t.Helper()
	wired := map[string]bool{}
	for _, f := range parseDir(t, "../cmd/bot") {
		ast.Inspect(f, func(n ast.Node) bool {
			if cl, ok := n.(*ast.CompositeLit); ok {
				if sel, ok := cl.Type.(*ast.SelectorExpr); ok {
					if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "handlers" {
						wired[sel.Sel.Name] = true
					}
				}
			}
			return true
		})
	}
	handles := map[string][]string{}
	for _, f := range parseDir(t, "../handlers") {
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Name.Name != "Handles" || fn.Recv == nil || len(fn.Recv.List) != 1 {
				continue
			}
			recv := fn.Recv.List[0].Type
			if star, ok := recv.(*ast.StarExpr); ok {
				recv = star.X
			}
			id, ok := recv.(*ast.Ident)
			if !ok {
				continue
			}
			events, err := returnedStrings(fn)
			if err != nil {
				t.Fatalf("handlers.%s.Handles: %v", id.Name, err)
			}
			handles[id.Name] = events
		}
	}
	out := map[string]bool{}
	for name := range wired {
		events, ok := handles[name]
		if !ok {
			continue // wired, but not an event handler (the Base)
		}
		for _, e := range events {
			out[e] = true
		}
	}
	if len(out) == 0 {
		t.Fatalf("found no handler wired in cmd/bot (wired: %v; with Handles: %v)", sortedSet(wired), handles)
	}
	return out
}

// returnedStrings is the []string literal a Handles method returns.
func returnedStrings(fn *ast.FuncDecl) ([]string, error) {
	if fn.Body == nil || len(fn.Body.List) != 1 {
		return nil, fmt.Errorf("want a body of one return of a []string literal, for this test to read")
	}
	ret, ok := fn.Body.List[0].(*ast.ReturnStmt)
	if !ok || len(ret.Results) != 1 {
		return nil, fmt.Errorf("want one return of a []string literal")
	}
	cl, ok := ret.Results[0].(*ast.CompositeLit)
	if !ok {
		return nil, fmt.Errorf("want a []string literal")
	}
	var out []string
	for _, e := range cl.Elts {
		lit, ok := e.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return nil, fmt.Errorf("want string literals, found %T", e)
		}
		s, err := strconv.Unquote(lit.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// parseDir parses the non-test Go files of dir.
func parseDir(t *testing.T, dir string) []*ast.File {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	var out []*ast.File
	fset := token.NewFileSet()
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

// eventPermission is the repository permission GitHub requires to
// subscribe to an event ("Webhook events and payloads": "a GitHub App must
// have at least read-level access for the … permission").
var eventPermission = map[string]string{
	"check_run":           "checks",
	"check_suite":         "checks",
	"issue_comment":       "issues",
	"merge_group":         "merge_queues",
	"pull_request":        "pull_requests",
	"pull_request_review": "pull_requests",
	"push":                "contents",
}

// beyondTheEmulator are asks no gh call against the emulator can prove,
// each with why it stays.
var beyondTheEmulator = map[string]string{
	"pull_requests: write": "the plan comments live on pull requests: GitHub documents writing a pull request's " +
		"comments (create, edit, delete, react) as needing issues or pull_requests write, and leaves GraphQL's " +
		"minimizeComment on them undocumented; the emulator models issues write as enough",
}

// checkPermissions: with exactly app.yaml's permissions every gh call
// succeeds; with any one of them a level lower, some call fails or some
// subscribed event could not be received.
func checkPermissions(t *testing.T, granted map[string]string, events []string) {
	if granted["metadata"] != "read" {
		t.Errorf("metadata: %q, want read (GitHub grants it to every App)", granted["metadata"])
	}
	byEvents := map[string]bool{}
	for _, e := range events {
		p, ok := eventPermission[e]
		if !ok {
			t.Errorf("event %s: add the permission it needs to eventPermission", e)
			continue
		}
		byEvents[p] = true
		if granted[p] != "read" && granted[p] != "write" {
			t.Errorf("app.yaml subscribes to %s but does not ask for %s: GitHub requires it", e, p)
		}
	}

	p := newPermissionProbe(t)
	if failed := p.run(t, granted); len(failed) > 0 {
		for _, name := range sortedKeys(failed) {
			t.Errorf("gh.Client.%s fails with app.yaml's permissions: %v", name, failed[name])
		}
		return
	}
	for _, name := range sortedKeys(granted) {
		level := granted[name]
		if name == "metadata" {
			continue
		}
		if level != "read" && level != "write" {
			t.Errorf("%s: %q is not a level (read or write)", name, level)
			continue
		}
		lower := map[string]string{}
		for k, v := range granted {
			lower[k] = v
		}
		if level == "write" {
			lower[name] = "read"
		} else {
			delete(lower, name)
		}
		failed := p.run(t, lower)
		var needing []string
		for _, call := range sortedKeys(failed) {
			if !gh.IsPermissionMissing(failed[call]) {
				t.Errorf("with %s lowered, gh.Client.%s failed otherwise than for the permission: %v", name, call, failed[call])
				continue
			}
			needing = append(needing, call)
		}
		ask := name + ": " + level
		switch {
		case len(needing) > 0:
			t.Logf("%-22s needed by %s", ask, strings.Join(needing, ", "))
		case level == "read" && byEvents[name]:
			t.Logf("%-22s needed by the events subscribed", ask)
		case beyondTheEmulator[ask] != "":
			t.Logf("%-22s kept: %s", ask, beyondTheEmulator[ask])
		default:
			t.Errorf("app.yaml asks for %s, but every gh call works with less and no subscribed event needs it", ask)
		}
	}
}

// permissionProbe makes every call of gh.Client as an installation of the
// App on the emulator.
type permissionProbe struct {
	s      *githubtest.Server
	c      *gh.Client
	inst   int64
	repo   gh.Repo
	rounds int
}

const probeRepo = "acme/probe"

func newPermissionProbe(t *testing.T) *permissionProbe {
	t.Helper()
	s := githubtest.New(t, githubtest.WithLogf(func(string, ...any) {}))
	s.CreateRepo(probeRepo, githubtest.RepoOptions{Files: map[string]string{"README.md": "# probe\n", ".tugboat.yaml": "version: 1\n"}})
	s.SetPermission(probeRepo, "alice", "write")
	s.AddTeamMember("acme", "platform", "alice", "")
	s.Branch(probeRepo, "queued", "main")
	s.RequireMergeQueue(probeRepo, "queued")
	inst := s.CreateInstallation("acme")
	app := s.App()
	cc := githubapp.NewClientCreator(s.URL()+"/api/v3/", s.URL()+"/api/graphql", app.ID, app.PrivateKeyPEM)
	f := &gh.Factory{Creator: cc}
	c, err := f.Installation(inst)
	if err != nil {
		t.Fatal(err)
	}
	return &permissionProbe{s: s, c: c, inst: inst, repo: gh.Repo{Owner: "acme", Name: "probe"}}
}

// everything is every permission the emulator checks, at its highest
// level: what a round's objects are made with.
var everything = map[string]string{"checks": "write", "contents": "write", "deployments": "write", "issues": "write",
	"members": "read", "merge_queues": "read", "pull_requests": "write", "statuses": "write"}

// grant makes the installation hold exactly perms (metadata is implied).
func (p *permissionProbe) grant(perms map[string]string) {
	for name := range everything {
		p.s.SetInstallationPermission(p.inst, name, "")
	}
	for name, level := range perms {
		if name != "metadata" {
			p.s.SetInstallationPermission(p.inst, name, level)
		}
	}
}

// run makes every gh call once with the installation holding perms, on
// objects made fresh for the round with the emulator's own hands, and
// returns the calls that failed.
func (p *permissionProbe) run(t *testing.T, perms map[string]string) map[string]error {
	t.Helper()
	ctx := context.Background()
	p.rounds++
	r := p.rounds
	s, c, repo := p.s, p.c, p.repo

	// Fresh objects: a pull request to read and merge, one into the
	// merge-queue branch to enqueue, a comment, a check run and a
	// deployment of the bot's to update.
	feature, queuedFeature := fmt.Sprintf("feature-%d", r), fmt.Sprintf("queued-feature-%d", r)
	s.Branch(probeRepo, feature, "main")
	head := s.Commit(probeRepo, feature, map[string]string{fmt.Sprintf("deploy/%d.yaml", r): "kind: ConfigMap\n"}, "change")
	n := s.OpenPR(probeRepo, githubtest.PROptions{Head: feature, Author: "alice"})
	s.Branch(probeRepo, queuedFeature, "queued")
	queuedHead := s.Commit(probeRepo, queuedFeature, map[string]string{fmt.Sprintf("queued/%d.yaml", r): "kind: ConfigMap\n"}, "change")
	qn := s.OpenPR(probeRepo, githubtest.PROptions{Head: queuedFeature, Base: "queued", Author: "alice"})
	p.grant(everything)
	cm, err := c.CreateComment(ctx, repo, n, "probe")
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.CreateCheckRun(ctx, repo, gh.CheckRun{Name: "tugboat/probe", HeadSHA: head, Status: "in_progress", Title: "probe", Summary: "probe"})
	if err != nil {
		t.Fatal(err)
	}
	dep, err := c.CreateDeployment(ctx, repo, gh.Deployment{Ref: head, Environment: "probe"})
	if err != nil {
		t.Fatal(err)
	}
	queued, err := c.PullRequest(ctx, repo, qn, gh.MergeablePolicy{})
	if err != nil {
		t.Fatal(err)
	}

	pr, err := c.PullRequest(ctx, repo, n, gh.MergeablePolicy{})
	if err != nil {
		t.Fatal(err)
	}
	// Objects of the release and drift calls, made beforehand so each
	// call's only reason to fail is its own permission: a commit, a
	// branch with a pull request, a branch without one, an issue.
	probeBranch, openBranch := fmt.Sprintf("probe-%d", r), fmt.Sprintf("probe-open-%d", r)
	probeSHA, err := c.CommitFiles(ctx, repo, head, map[string][]byte{fmt.Sprintf("probe/%d.yaml", r): []byte("x: 1\n")}, "probe")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{probeBranch, openBranch} {
		if err := c.SetBranch(ctx, repo, b, probeSHA, true, false); err != nil {
			t.Fatal(err)
		}
	}
	probePR, _, err := c.OpenPull(ctx, repo, gh.NewPull{Head: probeBranch, Base: "main", Title: "probe", Body: "probe"})
	if err != nil {
		t.Fatal(err)
	}
	issue, err := c.CreateIssue(ctx, repo, "probe", "probe", []string{"tugboat/drift"})
	if err != nil {
		t.Fatal(err)
	}

	// Every call of gh.Client the bot makes, in an order where each one's
	// object still exists (the comment is deleted last).
	calls := []struct {
		name string
		call func() error
	}{
		{"Repository", func() error { _, err := c.Repository(ctx, repo); return err }},
		{"BranchHead", func() error { _, err := c.BranchHead(ctx, repo, "main"); return err }},
		{"RequiredChecks", func() error { _, err := c.RequiredChecks(ctx, repo, "main"); return err }},
		{"UsesMergeQueue", func() error { _, err := c.UsesMergeQueue(ctx, repo, "queued"); return err }},
		{"File", func() error { _, _, err := c.File(ctx, repo, "main", ".tugboat.yaml"); return err }},
		{"Tarball", func() error { _, err := c.Tarball(ctx, repo, head); return err }},
		{"FirstParent", func() error { _, err := c.FirstParent(ctx, repo, head); return err }},
		{"CommitTree", func() error { _, err := c.CommitTree(ctx, repo, head); return err }},
		{"Permission", func() error { _, err := c.Permission(ctx, repo, "alice"); return err }},
		{"CanWrite", func() error { _, err := c.CanWrite(ctx, repo, "alice"); return err }},
		{"TeamMember", func() error { _, err := c.TeamMember(ctx, "acme", "platform", "alice"); return err }},
		{"PullRequest", func() error { _, err := c.PullRequest(ctx, repo, n, gh.MergeablePolicy{}); return err }},
		{"PullForCommit", func() error { _, err := c.PullForCommit(ctx, repo, head); return err }},
		{"PullsForCommit", func() error { _, err := c.PullsForCommit(ctx, repo, head); return err }},
		{"Reviews", func() error { _, err := c.Reviews(ctx, repo, n); return err }},
		{"CheckRunsForRef", func() error { _, err := c.CheckRunsForRef(ctx, repo, head); return err }},
		{"FailedCheckRuns", func() error { _, err := c.FailedCheckRuns(ctx, repo, head, "tugboat"); return err }},
		{"CreateCheckRun", func() error {
			_, err := c.CreateCheckRun(ctx, repo, gh.CheckRun{Name: "tugboat/probe", HeadSHA: head, Status: "in_progress", Title: "probe", Summary: "probe"})
			return err
		}},
		{"UpdateCheckRun", func() error {
			return c.UpdateCheckRun(ctx, repo, run, gh.CheckRun{Name: "tugboat/probe", Status: "completed", Conclusion: "success", Title: "probe", Summary: "probe"})
		}},
		{"Statuses", func() error { _, err := c.Statuses(ctx, repo, head); return err }},
		{"SetStatus", func() error {
			return c.SetStatus(ctx, repo, head, gh.Status{Context: "tugboat/apply/probe", State: "success", Description: "probe"})
		}},
		{"CreateDeployment", func() error {
			_, err := c.CreateDeployment(ctx, repo, gh.Deployment{Ref: head, Environment: "probe"})
			return err
		}},
		{"SetDeploymentStatus", func() error { return c.SetDeploymentStatus(ctx, repo, dep, gh.DeploymentStatus{State: "success"}) }},
		{"DeploymentsOf", func() error {
			_, err := c.DeploymentsOf(ctx, repo, head, "probe")
			return err
		}},
		{"Comments", func() error { _, err := c.Comments(ctx, repo, n); return err }},
		{"CreateComment", func() error { _, err := c.CreateComment(ctx, repo, n, "probe"); return err }},
		{"EditComment", func() error { _, err := c.EditComment(ctx, repo, cm.ID, "probe, edited"); return err }},
		{"React", func() error { return c.React(ctx, repo, cm.ID, "eyes") }},
		{"MinimizeOutdated", func() error { return c.MinimizeOutdated(ctx, cm.NodeID) }},
		{"DeleteComment", func() error { return c.DeleteComment(ctx, repo, cm.ID) }},
		{"Enqueue", func() error { return c.Enqueue(ctx, queued.NodeID, queuedHead) }},
		{"BranchSHA", func() error { _, _, err := c.BranchSHA(ctx, repo, feature); return err }},
		{"Commit", func() error { _, err := c.Commit(ctx, repo, head); return err }},
		{"CommitFiles", func() error {
			_, err := c.CommitFiles(ctx, repo, head, map[string][]byte{fmt.Sprintf("probe/%d-b.yaml", r): []byte("x: 2\n")}, "probe")
			return err
		}},
		{"SetBranch", func() error { return c.SetBranch(ctx, repo, probeBranch+"-set", probeSHA, true, false) }},
		{"OpenPull", func() error {
			_, _, err := c.OpenPull(ctx, repo, gh.NewPull{Head: openBranch, Base: "main", Title: "probe", Body: "probe"})
			return err
		}},
		{"OpenPullFrom", func() error { _, _, err := c.OpenPullFrom(ctx, repo, probeBranch); return err }},
		{"EditPull", func() error { return c.EditPull(ctx, repo, probePR, "probe, edited", "probe") }},
		{"PullFiles", func() error { _, err := c.PullFiles(ctx, repo, n); return err }},
		{"OpenPullRequests", func() error { _, err := c.OpenPullRequests(ctx, repo); return err }},
		{"InstalledRepos", func() error { _, err := c.InstalledRepos(ctx); return err }},
		{"RecentDeployments", func() error { _, err := c.RecentDeployments(ctx, repo, "probe", 10); return err }},
		{"CreateIssue", func() error {
			_, err := c.CreateIssue(ctx, repo, "probe", "probe", []string{"tugboat/drift"})
			return err
		}},
		{"GetIssue", func() error { _, err := c.GetIssue(ctx, repo, issue.Number); return err }},
		{"EditIssue", func() error {
			closed := "closed"
			_, err := c.EditIssue(ctx, repo, issue.Number, gh.IssueEdit{State: &closed})
			return err
		}},
		{"IssuesByLabel", func() error { _, err := c.IssuesByLabel(ctx, repo, "tugboat/drift"); return err }},
		{"Merge", func() error { return c.Merge(ctx, repo, n, head, "merge") }},
		{"RevertPull", func() error { _, _, err := c.RevertPull(ctx, pr.NodeID, "Revert probe", "probe"); return err }},
	}

	// Every exported method of gh.Client is a call the bot makes (V3 hands
	// out the go-github client for the handlers' needs, and makes none).
	covered := map[string]bool{"V3": true}
	for _, cl := range calls {
		covered[cl.name] = true
	}
	typ := reflect.TypeOf(c)
	for i := 0; i < typ.NumMethod(); i++ {
		if name := typ.Method(i).Name; !covered[name] {
			t.Fatalf("gh.Client.%s is not exercised here: add it to the calls, so app.yaml is proven to cover it", name)
		}
	}

	p.grant(perms)
	failed := map[string]error{}
	for _, cl := range calls {
		if err := cl.call(); err != nil {
			failed[cl.name] = err
		}
	}
	return failed
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
