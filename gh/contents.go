package gh

import (
	"context"
	"fmt"

	"github.com/google/go-github/v60/github"
)

// maxConfigFile caps a file read through the contents API: .tugboat.yaml
// is a page of YAML, and a repository is hostile input.
const maxConfigFile = 1 << 20

// File reads one file of the repository at ref (a branch, tag or commit).
// found is false when there is no such file.
func (c *Client) File(ctx context.Context, repo Repo, ref, path string) (data []byte, found bool, err error) {
	fc, _, _, err := c.v3.Repositories.GetContents(ctx, repo.Owner, repo.Name, path, &github.RepositoryContentGetOptions{Ref: ref})
	if IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, wrap(err, "read %s at %s of %s", path, ref, repo)
	}
	if fc == nil {
		return nil, false, fmt.Errorf("read %s at %s of %s: it is a directory", path, ref, repo)
	}
	if fc.GetSize() > maxConfigFile {
		return nil, false, fmt.Errorf("read %s at %s of %s: %d bytes, more than the %d allowed", path, ref, repo, fc.GetSize(), maxConfigFile)
	}
	s, err := fc.GetContent()
	if err != nil {
		return nil, false, fmt.Errorf("read %s at %s of %s: %w", path, ref, repo, err)
	}
	return []byte(s), true, nil
}
