package ops

import (
	"context"
	"errors"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
)

// trustedConfig reads .tugboat.yaml from the repository's default branch
// head — never from the base a pull request targets: anyone with write
// access can create an unprotected branch and aim a PR at it with a config
// that adds an environment on the prod cluster. A missing or invalid file,
// or one naming a cluster this repository may not use, is a refusal: cfg
// is nil and the reason says why.
func (o *Ops) trustedConfig(ctx context.Context, pr PR) (*config.RepoConfig, comments.Reason, error) {
	info, err := pr.Client.Repository(ctx, pr.Repo)
	if err != nil {
		return nil, comments.Reason{}, err
	}
	data, found, err := pr.Client.File(ctx, pr.Repo, info.DefaultBranch, config.RepoFile)
	if err != nil {
		return nil, comments.Reason{}, err
	}
	if !found {
		return nil, comments.ReasonOther("the default branch " + info.DefaultBranch + " has no " + config.RepoFile), nil
	}
	cfg, err := o.parseTrusted(ctx, data, pr.Repo.FullName(), fromGitHub(pr.Client, pr.Repo, info.DefaultBranch))
	var invalid config.Errors
	if errors.As(err, &invalid) {
		return nil, comments.ReasonOther("the default branch's " + config.RepoFile + " is invalid: " + err.Error()), nil
	}
	if err != nil {
		return nil, comments.Reason{}, err
	}
	return cfg, comments.Reason{}, nil
}

// fileReader reads a file of the commit a .tugboat.yaml was read from
// (found false when it has none).
type fileReader = func(ctx context.Context, path string) (data []byte, found bool, err error)

// fromGitHub reads files of repo at ref through the API.
func fromGitHub(c *gh.Client, repo gh.Repo, ref string) fileReader {
	return func(ctx context.Context, path string) ([]byte, bool, error) { return c.File(ctx, repo, ref, path) }
}

// fromTree reads files of a downloaded tree.
func fromTree(t *gh.Tree) fileReader {
	return func(_ context.Context, path string) ([]byte, bool, error) {
		data, ok := t.Files[path]
		return data, ok, nil
	}
}

// parseTrusted parses a default branch's .tugboat.yaml, adds the shared
// policies it names (policies_from, read by read from the same commit), and
// checks that its environments use only clusters the server lets this
// repository use.
func (o *Ops) parseTrusted(ctx context.Context, data []byte, repo string, read fileReader) (*config.RepoConfig, error) {
	cfg, err := config.ParseRepoContext(ctx, data, config.RepoFile)
	if err != nil {
		return nil, err
	}
	if err := cfg.ReadSharedPolicies(ctx, read); err != nil {
		return nil, err
	}
	if o.opts.ClusterAllowed != nil {
		allowed := func(cluster string) bool { return o.opts.ClusterAllowed(cluster, repo) }
		if errs := config.CheckClusters(cfg, allowed); len(errs) > 0 {
			return nil, errs
		}
	}
	return cfg, nil
}
