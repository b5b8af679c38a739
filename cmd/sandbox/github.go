package main

import (
	"fmt"

	"github.com/tugboatops/tugboat/internal/githubtest"
)

// The sandbox's GitHub: one organization with the examples repository.
const (
	org      = "acme"
	repoName = "acme/shop-config"
	prBranch = "release-web-1.6"
)

// person is one of the sandbox's GitHub users; the PR page lets you act as
// any of them, to see what each may do.
type person struct {
	Login, Permission, Role string
}

var people = []person{
	{"alice", "admin", "platform lead: the second approval prod needs, and the merge"},
	{"bob", "write", "developer: opens the pull request and applies staging"},
	{"carol", "write", "reviewer: the approval staging needs"},
	{"dave", "read", "read-only: his /plan and /apply get a polite refusal"},
}

// emulator calls the emulator's setup methods, which panic on failure
// outside a test, and turns that panic into an error.
func emulator(what string, f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: %v", what, r)
		}
	}()
	f()
	return nil
}

// createRepo creates the repository with main's files and its people, and
// returns main's commit. Branch protection asks for an approval and
// requires tugboat/prod, as a platform team's would: prod deploys on merge,
// and its check run stays action_required until prod's own requirements
// (two approvals) are met, so GitHub will not merge before. tugboat/staging
// is not required, and tugboat's checks never count against /apply (the
// mergeable deadlock of atlantis#453).
func createRepo(gh *githubtest.Server, files map[string]string) (string, error) {
	var sha string
	err := emulator("create "+repoName, func() {
		gh.CreateRepo(repoName, githubtest.RepoOptions{Files: files})
		for _, p := range people {
			gh.SetPermission(repoName, p.Login, p.Permission)
		}
		gh.Protect(repoName, "main", githubtest.BranchProtection{RequiredApprovals: 1, RequiredContexts: []string{"tugboat/prod"}})
		sha = gh.HeadSHA(repoName, "main")
	})
	return sha, err
}

// openPR pushes the change to a new branch as bob and opens the pull
// request. Deletions go in a second commit after the edits, so every
// commit renders (the kustomization stops listing a file before the file
// goes).
func openPR(gh *githubtest.Server, main, pr map[string]string, c change) (int, error) {
	write, del := difference(main, pr)
	var n int
	err := emulator("open the pull request", func() {
		gh.Branch(repoName, prBranch, "main")
		gh.Commit(repoName, prBranch, write, c.Message)
		if len(del) > 0 {
			gh.DeleteFiles(repoName, prBranch, del, "Remove the debug toolbox from staging")
		}
		n = gh.OpenPR(repoName, githubtest.PROptions{
			Head:   prBranch,
			Title:  c.Message,
			Author: "bob",
			Body: "Staging gets web 1.6.0 (longer checkout timeout, rotated payment key, new checkout for everyone, no more debug toolbox); " +
				"prod gets web 1.5.0 and a fourth api replica.\n\n" +
				"tugboat plans both environments below. Staging is applied with `/apply staging` once approved; prod deploys on merge, after staging, with two approvals.",
		})
	})
	return n, err
}
