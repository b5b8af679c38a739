package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tugboatops/tugboat/internal/githubtest"
)

// pushSandbox is a Sandbox with only its GitHub side: pushes need no
// clusters or bot.
func pushSandbox(t *testing.T) *Sandbox {
	t.Helper()
	gh := githubtest.New(t)
	main := examplesTree(t)
	pr, err := prChange.apply(main)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := createRepo(gh, main); err != nil {
		t.Fatal(err)
	}
	s := &Sandbox{GitHub: gh, WorkDir: filepath.Join(t.TempDir(), "pr-branch"), pushed: pr}
	if s.PR, err = openPR(gh, main, pr, prChange); err != nil {
		t.Fatal(err)
	}
	if err := writeTree(s.WorkDir, pr); err != nil {
		t.Fatal(err)
	}
	return s
}

// branchFile reads path on the PR branch through the emulator's REST API;
// ok is false when it does not exist.
func branchFile(t *testing.T, s *Sandbox, path string) (content string, ok bool) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.GitHub.URL()+"/repos/"+repoName+"/contents/"+path+"?ref="+prBranch, nil)
	req.Header.Set("Authorization", "token "+s.GitHub.UserToken("alice"))
	resp, err := s.GitHub.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return "", false
	}
	var body struct{ Content string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("contents of %s: %s %v", path, resp.Status, err)
	}
	data, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(body.Content, "\n", ""))
	if err != nil {
		t.Fatal(err)
	}
	return string(data), true
}

func TestOpenPRRemovesTheToolbox(t *testing.T) {
	s := pushSandbox(t)
	if _, ok := branchFile(t, s, "deploy/overlays/staging/debug-toolbox.yaml"); ok {
		t.Error("debug-toolbox.yaml still on the PR branch")
	}
	if got, _ := branchFile(t, s, "deploy/overlays/staging/api-config.yaml"); !strings.Contains(got, "CHECKOUT_TIMEOUT: 45s") {
		t.Errorf("api-config on the PR branch:\n%s", got)
	}
	if pr := s.GitHub.PR(repoName, s.PR); pr.Author != "bob" || pr.HeadRef != prBranch || pr.State != "open" {
		t.Errorf("pull request: %+v", pr)
	}
}

// A person edits the working copy and pushes through the control socket,
// as `--push` does from another terminal.
func TestPushThroughControlSocket(t *testing.T) {
	s := pushSandbox(t)
	dir := t.TempDir()
	ctl, err := startControl(filepath.Join(dir, controlSocket), s)
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.close()
	headBefore := s.GitHub.PR(repoName, s.PR).HeadSHA

	cfg := filepath.Join(s.WorkDir, "deploy/overlays/staging/api-config.yaml")
	data, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(data), "LOG_LEVEL: debug", "LOG_LEVEL: warn", 1)), 0o644)
	os.Remove(filepath.Join(s.WorkDir, "deploy/overlays/prod/featureflags.yaml"))

	res, err := requestPush(context.Background(), dir, "Quieter staging")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Written, []string{"deploy/overlays/staging/api-config.yaml"}) ||
		!reflect.DeepEqual(res.Deleted, []string{"deploy/overlays/prod/featureflags.yaml"}) || res.Message != "Quieter staging" {
		t.Errorf("push result %+v", res)
	}
	if head := s.GitHub.PR(repoName, s.PR).HeadSHA; head != res.SHA || head == headBefore {
		t.Errorf("PR head %s, pushed %s (before %s)", head, res.SHA, headBefore)
	}
	if got, _ := branchFile(t, s, "deploy/overlays/staging/api-config.yaml"); !strings.Contains(got, "LOG_LEVEL: warn") {
		t.Errorf("api-config on the branch:\n%s", got)
	}
	if _, ok := branchFile(t, s, "deploy/overlays/prod/featureflags.yaml"); ok {
		t.Error("the deleted file is still on the branch")
	}

	// No edits: the prepared follow-up, once; then a clear refusal.
	res, err = requestPush(context.Background(), dir, "")
	if err != nil || res.Message != followUp.Message {
		t.Fatalf("follow-up push: %+v, %v", res, err)
	}
	if got, _ := branchFile(t, s, "deploy/overlays/staging/kustomization.yaml"); !strings.Contains(got, "count: 2") {
		t.Errorf("follow-up not on the branch:\n%s", got)
	}
	if wc, _ := os.ReadFile(filepath.Join(s.WorkDir, "deploy/overlays/staging/kustomization.yaml")); !strings.Contains(string(wc), "count: 2") {
		t.Error("the working copy does not show the follow-up")
	}
	if _, err := requestPush(context.Background(), dir, ""); err == nil || !strings.Contains(err.Error(), "nothing to push") {
		t.Errorf("third push: %v", err)
	}
}

func TestPushWithoutSandbox(t *testing.T) {
	_, err := requestPush(context.Background(), t.TempDir(), "")
	if err == nil || !strings.Contains(err.Error(), "no sandbox running") {
		t.Errorf("got %v", err)
	}
}
