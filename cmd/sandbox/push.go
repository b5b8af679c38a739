package main

import (
	"fmt"
	"sort"
)

// pushResult says what a push committed.
type pushResult struct {
	SHA     string   `json:"sha"`
	Message string   `json:"message"`
	Written []string `json:"written"`
	Deleted []string `json:"deleted"`
}

// push commits the working copy's differences from the branch as last
// pushed to the pull request's branch, as bob, which makes the emulator
// send pull_request synchronize and the bot plan the new commit. With no
// edits in the working copy, it pushes the canned follow-up change (when
// that still applies), so `--push` alone shows a plan update.
func (s *Sandbox) push(message string) (pushResult, error) {
	s.pushMu.Lock()
	defer s.pushMu.Unlock()
	files, err := readTree(s.WorkDir)
	if err != nil {
		return pushResult{}, err
	}
	write, del := difference(s.pushed, files)
	if len(write) == 0 && len(del) == 0 {
		next, err := followUp.apply(s.pushed)
		if err != nil {
			return pushResult{}, fmt.Errorf("nothing to push: edit the files under %s first", s.WorkDir)
		}
		if err := writeTree(s.WorkDir, next); err != nil {
			return pushResult{}, err
		}
		files, message = next, followUp.Message
		write, del = difference(s.pushed, files)
	}
	if message == "" {
		message = "Update from the sandbox working copy"
	}
	res := pushResult{Message: message, Deleted: del}
	for p := range write {
		res.Written = append(res.Written, p)
	}
	sort.Strings(res.Written)
	err = emulator("push", func() {
		// Edits first, deletions second: a kustomization stops listing a
		// file before the file goes, so both commits render.
		if len(write) > 0 {
			res.SHA = s.GitHub.Commit(repoName, prBranch, write, message)
		}
		if len(del) > 0 {
			res.SHA = s.GitHub.DeleteFiles(repoName, prBranch, del, message+" (deletions)")
		}
	})
	if err != nil {
		return pushResult{}, err
	}
	s.pushed = files
	return res, nil
}
