package comments

import "fmt"

// ConclusionSkipped is GitHub's check-run conclusion for "nothing to do";
// branch protection counts it as passing.
const ConclusionSkipped = "skipped"

// NoEnvironmentCheckRun is the run "tugboat" on a head that affects no
// environment: its being completed tells every replica (and the resync)
// that this head was looked at, so it is not planned again.
func NoEnvironmentCheckRun() CheckRun {
	return CheckRun{
		Conclusion: ConclusionSkipped,
		Title:      "No environment affected",
		Summary:    "This commit changes nothing any environment in `.tugboat.yaml` renders, so there is no plan.\n",
	}
}

// NoConfigCheckRun is the run "tugboat" on a head whose base branch has no
// `.tugboat.yaml` yet: nothing can be planned until it has.
func NoConfigCheckRun() CheckRun {
	return CheckRun{
		Conclusion: ConclusionSkipped,
		Title:      "No configuration on the base branch",
		Summary:    "The base branch has no `.tugboat.yaml`, so no environment is planned. Environments are planned once it is there.\n",
	}
}

// InterruptedPlanCheckRun concludes a tugboat/<env> plan run a stopped bot
// process left in progress; a new plan follows at once.
func InterruptedPlanCheckRun(env string) CheckRun {
	return CheckRun{
		Conclusion: ConclusionFailure,
		Title:      "Interrupted — planning again",
		Summary: fmt.Sprintf("tugboat stopped while planning **%s** (the process was restarted or killed), so this run never finished. "+
			"A new plan of this commit follows.\n", text(envLabel(env))),
		Text: "No result: planning was interrupted.",
	}
}
