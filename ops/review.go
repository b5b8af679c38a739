package ops

import (
	"context"

	"github.com/tugboatops/tugboat/config"
)

// ReviewChanged re-plans the on-merge environments whose check run on the
// head shows (or should show) the `approved` requirement, after a review
// was submitted or dismissed.
func (o *Ops) ReviewChanged(ctx context.Context, pr PR) error {
	info, err := pr.Client.PullRequest(ctx, pr.Repo, pr.Number, o.opts.Mergeable)
	if err != nil || info.State != "open" {
		return err
	}
	cfg, _, err := o.trustedConfig(ctx, pr)
	if err != nil || cfg == nil {
		return err
	}
	runs, err := o.latestRuns(ctx, pr, info.HeadSHA)
	if err != nil {
		return err
	}
	var envs []string
	for _, env := range cfg.Environments {
		if env.Apply == config.ApplyOnComment {
			continue
		}
		if run, ok := runs[checkName(env.Name)]; ok && run.ExternalID != "" {
			envs = append(envs, env.Name)
		}
	}
	if len(envs) == 0 {
		return nil
	}
	return o.PlanPR(ctx, PlanRequest{PR: pr, Envs: envs})
}
