package ops

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
)

// automerge merges the pull request (or puts it in the merge queue where
// its base uses one) once every on-comment environment it changes is
// applied and converged and it is mergeable — `automerge: true` in
// .tugboat.yaml. It is called only after applies that all converged, and
// checks the newest runs again, so it never merges after a failed apply
// (Atlantis #4635).
func (o *Ops) automerge(ctx context.Context, pr PR, cfg *config.RepoConfig) {
	log := zerolog.Ctx(ctx)
	info, err := pr.Client.PullRequest(ctx, pr.Repo, pr.Number, o.opts.Mergeable)
	if err != nil || info.State != "open" {
		if err != nil {
			log.Warn().Err(err).Msg("automerge: could not read the pull request")
		}
		return
	}
	runs, err := o.latestRuns(ctx, pr, info.HeadSHA)
	if err != nil {
		log.Warn().Err(err).Msg("automerge: could not read the check runs")
		return
	}
	for _, env := range cfg.Environments {
		run, ok := runs[checkName(env.Name)]
		if env.Apply != config.ApplyOnComment || !ok {
			continue
		}
		if run.Status != "completed" || run.Conclusion != comments.ConclusionSuccess {
			log.Info().Str("env", env.Name).Str("conclusion", run.Conclusion).Msg("automerge waits: an environment is not applied and converged")
			return
		}
	}
	checks := newRequirementChecks(o, pr, info)
	unmet, err := checks.mergeableState(ctx)
	if err != nil {
		log.Warn().Err(err).Msg("automerge: could not check mergeability")
		return
	}
	if len(unmet) > 0 {
		o.replyOrLog(ctx, pr, comments.AutomergeWaitingReply(unmet))
		return
	}
	queue, err := pr.Client.UsesMergeQueue(ctx, pr.Repo, info.BaseRef)
	if err != nil {
		log.Warn().Err(err).Msg("automerge: could not tell whether the base uses a merge queue")
		return
	}
	if queue {
		err = pr.Client.Enqueue(ctx, info.NodeID, info.HeadSHA)
	} else {
		err = pr.Client.Merge(ctx, pr.Repo, pr.Number, info.HeadSHA, "merge")
	}
	if err != nil {
		log.Warn().Err(err).Msg("automerge failed")
		o.replyOrLog(ctx, pr, comments.AutomergeFailedReply(err.Error()))
		return
	}
	log.Info().Bool("queued", queue).Msg("automerged")
	o.replyOrLog(ctx, pr, comments.AutomergedReply(queue))
}

func (o *Ops) replyOrLog(ctx context.Context, pr PR, body string) {
	if err := o.Reply(ctx, pr, body); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("could not post the reply")
	}
}
