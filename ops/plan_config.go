package ops

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
)

// checkNewConfig validates the .tugboat.yaml a pull request brings, on a
// check run CheckConfig with an annotation per problem.
func (r *planRun) checkNewConfig(ctx context.Context, data []byte) {
	cr := gh.CheckRun{Name: CheckConfig, HeadSHA: r.pr.HeadSHA, Status: "completed"}
	_, err := config.ParseRepoContext(ctx, data, config.RepoFile)
	var errs config.Errors
	switch {
	case err == nil:
		cr.Conclusion, cr.Title = comments.ConclusionSuccess, config.RepoFile+" is valid"
		cr.Summary = "The changed " + config.RepoFile + " is valid. It takes effect once this pull request is merged: this plan still uses the base branch's."
	case errors.As(err, &errs):
		cr.Conclusion = comments.ConclusionFailure
		cr.Title = fmt.Sprintf("%s has %d problem(s)", config.RepoFile, len(errs))
		var b strings.Builder
		b.WriteString("The changed " + config.RepoFile + " is invalid and would stop tugboat from planning once merged:\n\n")
		for _, e := range errs {
			fmt.Fprintf(&b, "- %s\n", e.Error())
			line := max(e.Line, 1)
			cr.Annotations = append(cr.Annotations, gh.Annotation{Path: config.RepoFile, StartLine: line, EndLine: line,
				Level: comments.LevelFailure, Title: config.RepoFile, Message: e.Message})
		}
		cr.Summary = b.String()
	default:
		cr.Conclusion, cr.Title, cr.Summary = comments.ConclusionFailure, config.RepoFile+" is invalid", err.Error()
	}
	if _, err := r.req.Client.CreateCheckRun(ctx, r.req.Repo, cr); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("could not post the config check")
	}
}
