package githubtest

import "fmt"

// FileAt returns the content of path at ref (a branch or commit) of repo,
// for tests that check what a branch holds.
func (s *Server) FileAt(repo, ref, path string) (string, error) {
	r, err := s.repo(repo)
	if err != nil {
		return "", err
	}
	g := r.git()
	sha := g.resolve(ref)
	if sha == "" {
		sha = g.branchHead(ref)
	}
	if sha == "" {
		return "", fmt.Errorf("FileAt %s: %s names no commit", repo, ref)
	}
	blob := g.blobAt(sha, path)
	if blob == "" {
		return "", fmt.Errorf("FileAt %s: no %s at %s", repo, path, ref)
	}
	data, err := g.readBlob(blob)
	return string(data), err
}
