package comments

import (
	"fmt"

	"github.com/tugboatops/tugboat/planner"
)

// MergeGroupCheckRun is an environment's tugboat/<env> run on a merge
// group's commit. An on-comment environment passes only when the group's
// plan is empty: what the queue would merge is what was applied. An
// on-merge one passes when the group plans without problems; it deploys
// after the merge. err is a failure of tugboat itself.
func MergeGroupCheckRun(env string, mode ApplyMode, plan *planner.Plan, err error) CheckRun {
	name := "**" + text(envLabel(env)) + "**"
	if err != nil || plan == nil {
		msg := "no plan was produced"
		if err != nil {
			msg = err.Error()
		}
		return CheckRun{Conclusion: ConclusionFailure, Title: "Could not plan the merge group",
			Summary: fmt.Sprintf("tugboat could not plan %s for this merge group:\n\n%s", name, codeBlock("text", clip(msg, 8000)))}
	}
	st := statsOf(plan)
	switch {
	case st.problems > 0:
		return CheckRun{Conclusion: ConclusionFailure, Title: fmt.Sprintf("%s: cannot be merged", plural(st.problems, "problem")),
			Summary: fmt.Sprintf("The merge group's plan of %s has %s; the pull request's plan comment shows them.", name, plural(st.problems, "problem"))}
	case mode == ApplyOnComment && plan.HasChanges():
		return CheckRun{Conclusion: ConclusionFailure, Title: countsText(st.counts) + ": differs from what was applied",
			Summary: fmt.Sprintf("%s is applied before merge, but merging this group would change it (%s): the group differs from what "+
				"was applied (the base moved, or the pull request was not applied). Apply the pull request again "+
				"(`/apply %s`) and queue it once more.", name, countsText(st.counts), envLabel(env))}
	case mode == ApplyOnComment:
		return CheckRun{Conclusion: ConclusionSuccess, Title: "Matches what was applied",
			Summary: fmt.Sprintf("Merging this group changes nothing in %s: it runs what the group contains.", name)}
	case !plan.HasChanges():
		return CheckRun{Conclusion: ConclusionSuccess, Title: "No changes",
			Summary: fmt.Sprintf("Merging this group changes nothing in %s.", name)}
	}
	return CheckRun{Conclusion: ConclusionSuccess, Title: countsText(st.counts) + ": deploys on merge",
		Summary: fmt.Sprintf("The group plans cleanly for %s (%s); it deploys when the group merges.", name, countsText(st.counts))}
}
