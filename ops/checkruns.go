package ops

import (
	"context"
	"slices"

	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
)

// Check-run action identifiers (≤ 20 characters); the handlers answer them.
const (
	ActionApply  = "apply"
	ActionReplan = "plan"
)

var (
	applyAction  = gh.Action{Label: "Apply", Description: "Apply this plan to the environment", Identifier: ActionApply}
	replanAction = gh.Action{Label: "Re-plan", Description: "Plan this environment again", Identifier: ActionReplan}
)

// The names of tugboat's check runs.
const (
	// CheckPrefix starts the name of every environment's check run
	// (CheckPrefix + env) and of CheckConfig.
	CheckPrefix = "tugboat/"
	// CheckEarlyFailure reports a failure that came before any environment
	// was known (see failEarly).
	CheckEarlyFailure = "tugboat"
	// CheckConfig validates the .tugboat.yaml a pull request changes.
	CheckConfig = CheckPrefix + "config"
)

func checkName(env string) string { return CheckPrefix + env }

// conclude completes an environment's check run with its output, the plan
// digest as external_id, the Re-plan button, and the Apply button where a
// comment can apply the plan.
func (r *planRun) conclude(ctx context.Context, res *envResult, out comments.CheckRun, detailsURL string) error {
	planned := res.plan != nil && res.failure == nil
	if planned {
		out = r.gateOnMerge(ctx, res, out)
		out = r.notePin(ctx, res, out)
	}
	cr := gh.CheckRun{
		Name: checkName(res.env.Name), Status: "completed", Conclusion: out.Conclusion,
		Title: out.Title, Summary: out.Summary, Text: out.Text, DetailsURL: detailsURL,
		Actions: []gh.Action{replanAction},
	}
	if planned {
		cr.ExternalID = res.plan.Digest
	}
	if out.Conclusion == comments.ConclusionActionRequired && res.env.Apply == config.ApplyOnComment {
		cr.Actions = []gh.Action{applyAction, replanAction}
	}
	for _, a := range out.Annotations {
		cr.Annotations = append(cr.Annotations, gh.Annotation{Path: a.Path, StartLine: a.StartLine, EndLine: a.EndLine,
			Level: a.Level, Title: a.Title, Message: a.Message})
	}
	return r.req.Client.UpdateCheckRun(ctx, r.req.Repo, res.checkRunID, cr)
}

// concludeFailed fails every check run this run started and did not finish.
func (r *planRun) concludeFailed(ctx context.Context, results []*envResult, cause error) {
	out := comments.CheckRunError(cause)
	for _, res := range results {
		if res.checkRunID == 0 {
			continue
		}
		if err := r.conclude(ctx, res, out, ""); err != nil {
			zerolog.Ctx(ctx).Error().Err(err).Str("env", res.env.Name).Msg("could not conclude the check run")
		}
	}
}

// gateOnMerge makes an on-merge environment's run show its `approved`
// requirement before merge — success when met, action_required naming what
// is missing ("needs 2 approvals, has 1") — so branch protection can
// require tugboat/<env>. Review events re-plan it. `mergeable` is left to
// GitHub at merge time: other CI finishing later would leave the run
// stale, and tugboat's own check is what it would wait for.
func (r *planRun) gateOnMerge(ctx context.Context, res *envResult, out comments.CheckRun) comments.CheckRun {
	env := res.env
	if env.Apply == config.ApplyOnComment || !slices.Contains(env.Requires, config.RequireApproved) {
		return out
	}
	if r.checks == nil {
		r.checks = newRequirementChecks(r.o, r.req.PR, r.pr)
	}
	st, err := r.checks.approvalsState(ctx)
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("could not read the reviews for the on-merge gate")
		return out
	}
	return comments.WithMergeRequirements(out, st.unmet(env.Approvals))
}

// notePin tells an on-merge (or auto) environment's run that it is pinned
// by a break-glass rollback, so merging will not deploy it (or, on the
// revert that lifts the pin, that merging unpins and deploys). An
// on-comment environment's /apply names the pin itself when refused.
func (r *planRun) notePin(ctx context.Context, res *envResult, out comments.CheckRun) comments.CheckRun {
	if res.env.Apply == config.ApplyOnComment {
		return out
	}
	pin, err := r.o.state.Pin(ctx, res.env, r.req.Repo.FullName())
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Str("env", res.env.Name).Msg("could not read the pin for the plan's check run")
		return out
	}
	if pin == nil {
		return out
	}
	return comments.WithPin(out, commentsPin(res.env.Name, *pin), r.req.Number)
}
