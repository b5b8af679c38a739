package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugboatops/tugboat/kube"
)

// isolateGit keeps the user's and the system's git configuration (an
// insteadOf rule, say) out of the test's repositories.
func isolateGit(t *testing.T) {
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
}

// runGit runs git in dir, failing the test on error.
func runGit(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// gitCheckout makes a git repository in dir (created if need be) with the
// given remotes, each "name url".
func gitCheckout(t *testing.T, dir string, remotes ...string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	runGit(t, dir, "init", "-q")
	for _, r := range remotes {
		name, url, _ := strings.Cut(r, " ")
		runGit(t, dir, "remote", "add", name, url)
	}
}

func TestInferRepoName(t *testing.T) {
	isolateGit(t)
	for _, tc := range []struct {
		name    string
		remotes []string
		config  [][]string // extra `git config` arguments
		want    string     // owner/name, or "" when an error is expected
		remote  string
		wantErr string
	}{
		{name: "origin https", remotes: []string{"origin https://github.com/acme/app.git"}, want: "acme/app", remote: "origin"},
		{name: "https without .git, trailing slash", remotes: []string{"origin https://github.com/acme/app/"}, want: "acme/app", remote: "origin"},
		{name: "https with credentials", remotes: []string{"origin https://x-access-token:ghs_abc@github.com/acme/app.git"}, want: "acme/app", remote: "origin"},
		{name: "scp-like ssh", remotes: []string{"origin git@github.com:acme/app.git"}, want: "acme/app", remote: "origin"},
		{name: "ssh URL with port", remotes: []string{"origin ssh://git@ghe.example.com:2222/platform/deploy-config.git"}, want: "platform/deploy-config", remote: "origin"},
		{name: "upstream before origin", remotes: []string{"origin https://github.com/alice/app.git", "upstream git@github.com:acme/app.git"}, want: "acme/app", remote: "upstream"},
		{name: "github before origin", remotes: []string{"origin https://github.com/alice/app.git", "github https://github.com/acme/app"}, want: "acme/app", remote: "github"},
		{name: "one remote of another name", remotes: []string{"fork git@github.com:acme/app.git"}, want: "acme/app", remote: "fork"},
		{name: "gh repo set-default wins", remotes: []string{"origin https://github.com/acme/app.git", "upstream https://github.com/acme-old/app.git"},
			config: [][]string{{"remote.origin.gh-resolved", "base"}}, want: "acme/app", remote: "origin"},
		{name: "insteadOf rewrite applied", remotes: []string{"origin corp:app"},
			config: [][]string{{"url.https://github.com/acme/.insteadOf", "corp:"}}, want: "acme/app", remote: "origin"},
		{name: "no remote", wantErr: "the checkout has no git remote"},
		{name: "local path remote", remotes: []string{"origin /srv/git/app.git"}, wantErr: "no git remote (origin) has a GitHub-style owner/name URL"},
		{name: "file URL", remotes: []string{"origin file:///srv/git/acme/app.git"}, wantErr: "no git remote (origin) has a GitHub-style owner/name URL"},
		{name: "other remotes naming one repository", remotes: []string{"mirror https://github.com/acme/app.git", "ssh git@github.com:acme/app.git"}, want: "acme/app", remote: "mirror"},
		{name: "ambiguous", remotes: []string{"alice https://github.com/alice/app.git", "bob https://github.com/bob/app.git"},
			wantErr: "git remotes alice, bob name different repositories and none is called upstream or origin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			gitCheckout(t, dir, tc.remotes...)
			for _, kv := range tc.config {
				runGit(t, dir, "config", kv[0], kv[1])
			}
			got, err := inferRepoName(context.Background(), dir)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %+v, %v; want error %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got.Name != tc.want || got.Remote != tc.remote {
				t.Fatalf("got %+v, %v; want %s from %s", got, err, tc.want, tc.remote)
			}
		})
	}
}

// git, not a reader of .git/config, finds the repository from a
// subdirectory and from a linked worktree, whose .git is a file.
func TestInferRepoNameSubdirectoryAndWorktree(t *testing.T) {
	isolateGit(t)
	dir := t.TempDir()
	main := filepath.Join(dir, "main")
	gitCheckout(t, main, "origin git@github.com:acme/app.git")
	runGit(t, main, "commit", "-q", "--allow-empty", "-m", "first")
	sub := filepath.Join(main, "deploy", "overlays")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	worktree := filepath.Join(dir, "wt")
	runGit(t, main, "worktree", "add", "-q", worktree)
	if fi, err := os.Stat(filepath.Join(worktree, ".git")); err != nil || fi.IsDir() {
		t.Fatalf("worktree's .git should be a file: %v %v", fi, err)
	}
	for _, d := range []string{sub, worktree} {
		got, err := inferRepoName(context.Background(), d)
		if err != nil || got.Name != "acme/app" {
			t.Errorf("%s: got %+v, %v; want acme/app", d, got, err)
		}
	}
}

func TestInferRepoNameNotACheckout(t *testing.T) {
	isolateGit(t)
	_, err := inferRepoName(context.Background(), t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "not a git repository") {
		t.Fatalf("err = %v, want git's 'not a git repository'", err)
	}
}

func TestRepoFromURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://github.com/acme/app.git":        "acme/app",
		"http://ghe.local/acme/app":              "acme/app",
		"git://github.com/acme/app.git":          "acme/app",
		"ssh://github.com/acme/app":              "acme/app",
		"git+ssh://git@github.com/acme/app.git":  "acme/app",
		"github.com:acme/app":                    "acme/app",
		"git@github.com:acme/my.repo_v2-x.git":   "acme/my.repo_v2-x",
		"https://gitlab.com/group/sub/app.git":   "", // not owner/name
		"https://github.com/acme":                "",
		"./relative/acme/app":                    "",
		"/abs/acme/app.git":                      "",
		"file:///abs/acme/app.git":               "",
		"https://github.com/acme/../app":         "",
		"git@github.com:acme/app with space.git": "",
	} {
		got, ok := repoFromURL(raw)
		if got != want || ok != (want != "") {
			t.Errorf("repoFromURL(%q) = %q, %v; want %q", raw, got, ok, want)
		}
	}
}

// TestBotApplyInfersRepoName: in a fork's clone, `bot apply` without
// --repo-name applies into the upstream repository's ApplySet and says so.
func TestBotApplyInfersRepoName(t *testing.T) {
	isolateGit(t)
	const ns = "e2e-bot-apply-infer"
	repo, cfg := setup(t, ns)
	gitCheckout(t, repo, "origin https://github.com/alice/e2e-infer.git", "upstream git@github.com:acme/e2e-infer.git")

	out, stderr, code := botApply(t, "--repo", repo, "--config", cfg, "--env", "dev", "--yes")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	if want := `bot apply: repository acme/e2e-infer (from git remote "upstream"; --repo-name overrides)`; !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	cm, err := cluster.Client().CoreV1().ConfigMaps(ns).Get(context.Background(), "settings", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := kube.ApplySet{Repo: "acme/e2e-infer", Env: "dev"}.ID()
	if got := cm.Labels[kube.LabelApplySetPartOf]; got != want {
		t.Fatalf("configmap part-of = %q, want the ApplySet of acme/e2e-infer (%q)", got, want)
	}

	// --repo-name still decides when given: no remote is consulted.
	_, stderr, code = botApply(t, "--repo", repo, "--config", cfg, "--env", "dev", "--yes", "--repo-name", "acme/e2e-infer")
	if code != 0 || strings.Contains(stderr, "from git remote") {
		t.Fatalf("with --repo-name: exit %d, stderr:\n%s", code, stderr)
	}
}

// Without --repo-name and without a remote naming the repository, `bot
// apply` asks for it and writes nothing.
func TestBotApplyWithoutRepoName(t *testing.T) {
	isolateGit(t)
	const ns = "e2e-bot-apply-noname"
	repo, cfg := setup(t, ns)
	gitCheckout(t, repo, "origin /srv/git/app.git")
	_, stderr, code := botApply(t, "--repo", repo, "--config", cfg, "--env", "dev", "--yes")
	if code != 1 || !strings.Contains(stderr, "--repo-name owner/name is required") ||
		!strings.Contains(stderr, "no git remote (origin) has a GitHub-style owner/name URL") {
		t.Fatalf("exit %d, want 1 asking for --repo-name; stderr:\n%s", code, stderr)
	}
	if _, err := cluster.Client().CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{}); err == nil {
		t.Fatal("namespace created by an apply that had no repository name")
	}
}
