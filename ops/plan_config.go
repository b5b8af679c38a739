package ops

import (
	"context"
	"errors"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
)

// checkNewConfig validates the .tugboat.yaml a pull request brings, on a
// check run CheckConfig with an annotation per problem — including a
// cluster the server does not let this repository use, at its line.
func (r *planRun) checkNewConfig(ctx context.Context, data []byte) {
	cr := gh.CheckRun{Name: CheckConfig, HeadSHA: r.pr.HeadSHA, Status: "completed"}
	_, err := r.o.parseTrusted(ctx, data, r.req.Repo.FullName(), fromTree(r.merge))
	var errs config.Errors
	switch {
	case err == nil:
		cr.Conclusion, cr.Title = comments.ConclusionSuccess, config.RepoFile+" is valid"
		cr.Summary = "The changed " + config.RepoFile + " is valid. It takes effect once this pull request is merged into the default branch: this plan uses the default branch's."
	case errors.As(err, &errs):
		cr.Conclusion = comments.ConclusionFailure
		cr.Title = fmt.Sprintf("%s has %d problem(s)", config.RepoFile, len(errs))
		problems := make([]string, len(errs))
		for i, e := range errs {
			problems[i] = e.Error()
			line, file := max(e.Line, 1), e.File
			if file == "" {
				file = config.RepoFile
			}
			cr.Annotations = append(cr.Annotations, gh.Annotation{Path: file, StartLine: line, EndLine: line,
				Level: comments.LevelFailure, Title: file, Message: e.Message})
		}
		cr.Summary = comments.ConfigCheckSummary("The changed "+config.RepoFile+" is invalid and would stop tugboat from planning once merged:", problems)
	default:
		cr.Conclusion, cr.Title = comments.ConclusionFailure, config.RepoFile+" is invalid"
		cr.Summary = comments.ConfigCheckSummary("The changed "+config.RepoFile+" cannot be read:", []string{err.Error()})
	}
	if _, err := r.req.Client.CreateCheckRun(ctx, r.req.Repo, cr); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("could not post the config check")
	}
}
