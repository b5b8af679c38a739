package ops

import (
	"context"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
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
	cfg, err := o.parseTrusted(ctx, data, pr.Repo.FullName())
	if err != nil {
		return nil, comments.ReasonOther("the default branch's " + config.RepoFile + " is invalid: " + err.Error()), nil
	}
	return cfg, comments.Reason{}, nil
}

// parseTrusted parses a default branch's .tugboat.yaml and checks that its
// environments use only clusters the server lets this repository use.
func (o *Ops) parseTrusted(ctx context.Context, data []byte, repo string) (*config.RepoConfig, error) {
	cfg, err := config.ParseRepoContext(ctx, data, config.RepoFile)
	if err != nil {
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
