package githubtest

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

func TestRepositoryEndpoints(t *testing.T) {
	f := newFixture(t)
	f.s.SetPermission(testRepo, "alice", "write")
	f.s.SetPermission(testRepo, "mallory", "triage")
	f.s.AddUser("nobody")
	f.s.AddTeamMember("acme", "platform", "alice", "maintainer")

	repo := must[*github.Repository](t)(f.gh.Repositories.Get(f.ctx, "acme", "infra"))
	if repo.GetDefaultBranch() != "main" || repo.GetFullName() != testRepo {
		t.Errorf("repo = %s default %s", repo.GetFullName(), repo.GetDefaultBranch())
	}
	for login, want := range map[string]string{"alice": "write", "mallory": "read", "acme": "admin", "nobody": "read"} {
		p := must[*github.RepositoryPermissionLevel](t)(f.gh.Repositories.GetPermissionLevel(f.ctx, "acme", "infra", login))
		if p.GetPermission() != want {
			t.Errorf("%s: permission %s, want %s", login, p.GetPermission(), want)
		}
	}
	if _, resp, err := f.gh.Repositories.GetPermissionLevel(f.ctx, "acme", "infra", "ghost"); resp == nil || resp.StatusCode != 404 {
		t.Errorf("unknown user: %v", err)
	}

	m := must[*github.Membership](t)(f.gh.Teams.GetTeamMembershipBySlug(f.ctx, "acme", "platform", "alice"))
	if m.GetRole() != "maintainer" || m.GetState() != "active" {
		t.Errorf("membership = %s/%s", m.GetRole(), m.GetState())
	}
	if _, resp, _ := f.gh.Teams.GetTeamMembershipBySlug(f.ctx, "acme", "platform", "mallory"); resp == nil || resp.StatusCode != 404 {
		t.Errorf("non-member: want 404")
	}

	file, _, _ := must3(t)(f.gh.Repositories.GetContents(f.ctx, "acme", "infra", "deploy/app.yaml", &github.RepositoryContentGetOptions{Ref: "main"}))
	content, err := file.GetContent()
	if err != nil || !strings.Contains(content, "color: blue") {
		t.Errorf("contents of deploy/app.yaml = %q, %v", content, err)
	}
	_, dir, _ := must3(t)(f.gh.Repositories.GetContents(f.ctx, "acme", "infra", "", nil))
	var names []string
	for _, e := range dir {
		names = append(names, e.GetName()+":"+e.GetType())
	}
	sort.Strings(names)
	if strings.Join(names, " ") != "README.md:file deploy:dir" {
		t.Errorf("root listing = %v", names)
	}

	commit := must[*github.RepositoryCommit](t)(f.gh.Repositories.GetCommit(f.ctx, "acme", "infra", "main", nil))
	if commit.GetSHA() != f.s.HeadSHA(testRepo, "main") || commit.GetCommit().GetMessage() != "Initial commit" {
		t.Errorf("commit = %s %q", commit.GetSHA(), commit.GetCommit().GetMessage())
	}
}

func must3(t *testing.T) func(*github.RepositoryContent, []*github.RepositoryContent, *github.Response, error) (*github.RepositoryContent, []*github.RepositoryContent, *github.Response) {
	return func(a *github.RepositoryContent, b []*github.RepositoryContent, r *github.Response, err error) (*github.RepositoryContent, []*github.RepositoryContent, *github.Response) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b, r
	}
}

func TestTarball(t *testing.T) {
	f := newFixture(t)
	_, head := f.openFeaturePR(t)
	link, resp, err := f.gh.Repositories.GetArchiveLink(f.ctx, "acme", "infra", github.Tarball, &github.RepositoryContentGetOptions{Ref: head}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusFound {
		t.Errorf("archive link status = %d, want 302", resp.StatusCode)
	}
	got, err := http.Get(link.String())
	if err != nil {
		t.Fatal(err)
	}
	defer got.Body.Close()
	gz, err := gzip.NewReader(got.Body)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	files := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		files[h.Name] = string(b)
	}
	top := "acme-infra-" + head[:7] + "/"
	if !strings.Contains(files[top+"deploy/app.yaml"], "color: green") {
		t.Errorf("tarball of %s lacks %sdeploy/app.yaml with the PR's change; has %v", head, top, keys(files))
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestInstallationEndpoints(t *testing.T) {
	f := newFixture(t)
	s := f.s
	other := s.CreateInstallation("globex")
	s.CreateRepo("globex/apps", RepoOptions{})

	// App-level calls authenticate with the JWT, through go-githubapp's and
	// ghinstallation's own app transport.
	app := s.App()
	atr, err := newAppsTransport(app)
	if err != nil {
		t.Fatal(err)
	}
	atr.BaseURL = s.URL()
	appClient := github.NewClient(&http.Client{Transport: atr})
	appClient.BaseURL, _ = url.Parse(s.URL() + "/")
	got := must[*github.App](t)(appClient.Apps.Get(f.ctx, ""))
	if got.GetID() != app.ID {
		t.Errorf("app id = %d", got.GetID())
	}
	inst := must[*github.Installation](t)(appClient.Apps.FindRepositoryInstallation(f.ctx, "globex", "apps"))
	if inst.GetID() != other {
		t.Errorf("installation of globex/apps = %d, want %d", inst.GetID(), other)
	}
	list := must[[]*github.Installation](t)(appClient.Apps.ListInstallations(f.ctx, nil))
	if len(list) != 2 {
		t.Errorf("installations = %d", len(list))
	}

	// acme's installation token cannot see globex's repository.
	if _, resp, _ := f.gh.Repositories.Get(f.ctx, "globex", "apps"); resp == nil || resp.StatusCode != 404 {
		t.Errorf("cross-installation read: want 404")
	}
	repos := must[*github.ListRepositories](t)(f.gh.Apps.ListRepos(f.ctx, nil))
	if repos.GetTotalCount() != 1 || repos.Repositories[0].GetFullName() != testRepo {
		t.Errorf("installation repos = %d", repos.GetTotalCount())
	}

	// A forged JWT is refused.
	bad := github.NewClient(nil).WithAuthToken("eyJhbGciOiJSUzI1NiJ9.e30.c2ln")
	bad.BaseURL = appClient.BaseURL
	if _, resp, _ := bad.Apps.Get(f.ctx, ""); resp == nil || resp.StatusCode != 401 {
		t.Errorf("forged JWT: want 401")
	}
	// So is a token the server never issued.
	raw := github.NewClient(nil).WithAuthToken("ghs_unknown")
	raw.BaseURL = f.gh.BaseURL
	if _, resp, _ := raw.Repositories.Get(f.ctx, "acme", "infra"); resp == nil || resp.StatusCode != 401 {
		t.Errorf("unknown token: want 401")
	}
}

func TestEnterpriseURLs(t *testing.T) {
	f := newFixture(t)
	app := f.s.App()
	itr, err := newInstallationTransport(app, f.instID, f.s.URL()+"/api/v3")
	if err != nil {
		t.Fatal(err)
	}
	gh, err := github.NewClient(&http.Client{Transport: itr}).WithEnterpriseURLs(f.s.URL(), f.s.URL())
	if err != nil {
		t.Fatal(err)
	}
	repo := must[*github.Repository](t)(gh.Repositories.Get(context.Background(), "acme", "infra"))
	if repo.GetName() != "infra" {
		t.Errorf("repo via /api/v3 = %q", repo.GetName())
	}
}

func TestGraphQLMinimizeComment(t *testing.T) {
	f := newFixture(t)
	n, _ := f.openFeaturePR(t)
	c := must[*github.IssueComment](t)(f.gh.Issues.CreateComment(f.ctx, "acme", "infra", n, &github.IssueComment{Body: github.String("old plan")}))

	query := `mutation($input: MinimizeCommentInput!) { minimizeComment(input: $input) { minimizedComment { isMinimized minimizedReason } } }`
	body, _ := json.Marshal(map[string]any{"query": query, "variables": map[string]any{
		"input": map[string]any{"subjectId": c.GetNodeID(), "classifier": "OUTDATED"}}})
	req, _ := http.NewRequest("POST", f.s.GraphQLURL(), strings.NewReader(string(body)))
	resp, err := f.gh.Client().Do(req) // the installation transport adds the token
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data struct {
			MinimizeComment struct {
				MinimizedComment map[string]any
			}
		}
		Errors []struct{ Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	mc := out.Data.MinimizeComment.MinimizedComment
	if len(out.Errors) > 0 || mc["isMinimized"] != true || mc["minimizedReason"] != "outdated" || len(mc) != 2 {
		t.Fatalf("response = %+v (only the selected fields, please)", out)
	}
	if got := f.s.Comments(testRepo, n); got[0].Minimized != "OUTDATED" {
		t.Errorf("comment minimized = %q", got[0].Minimized)
	}
}
