package comments

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tugboatops/tugboat/planner"
)

func revertReports() []Revert {
	staging := convergedReport()
	staging.Trigger, staging.Actor, staging.Head, staging.Commit = TriggerClose, "", "", headSHA
	staging.Result.Takeovers = nil
	// qa's revert left the dangerous delete out (the applier would refuse
	// the whole plan otherwise) and converged.
	qa := convergedReport()
	qa.Env, qa.Cluster, qa.Trigger, qa.Actor, qa.Head, qa.Commit = "qa", "qa-eu1", TriggerClose, "", "", headSHA
	qa.Result.Takeovers, qa.Result.Prunes = nil, nil
	return []Revert{
		{Env: "staging", Report: &staging, Kept: []planner.ObjectRef{configMap("apps", "web-flags-v2")}, Unlocked: true},
		{Env: "qa", Report: &qa, Dangerous: driftDangerPlan().Envs[0].Plan.Changes[:1], Unlocked: true},
		{Env: "dev"},
	}
}

func TestGoldenRevertComment(t *testing.T) {
	body := RevertComment(42, "main", revertReports())
	checkMarkdown(t, "revert", body, MaxCommentChars)
	golden(t, "comment-revert", []string{body})
}

func TestRevertComment(t *testing.T) {
	body := RevertComment(42, "main", revertReports())
	for _, want := range []string{
		"## ↩️ #42 closed without merging: environments brought back to `main`\n",
		"### ✅ staging: reverted, converged in 14s\n",
		"Revert to the default branch: #42 was closed without merging",
		"**Left in the cluster** (the environment has `prune: false`) (1):\n\n- `ConfigMap apps/web-flags-v2`\n",
		"Released this pull request's lock on staging.",
		"### ✅ qa: reverted, converged in 14s\n",
		"**Not deleted** (dangerous) (1):\n\n- `Namespace legacy`: deletes Namespace legacy and every object in it\n",
		"To delete them too, comment `/apply qa --allow-dangerous` on this closed pull request.",
		"### ✅ dev: nothing to revert\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("revert comment lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "To delete them too, comment `/apply staging") {
		t.Error("staging, which has no dangerous deletes, is told how to make them")
	}
	if got := RevertComment(7, "main", nil); !strings.Contains(got, "had applied no environment: nothing to revert") {
		t.Errorf("empty revert: %q", got)
	}

	// Many environments with many objects still fit one comment.
	var many []Revert
	for i := range 30 {
		r := manyObjectsReport(500, 5)
		r.Trigger, r.Env = TriggerClose, fmt.Sprintf("env-%02d", i)
		rv := Revert{Env: r.Env, Report: &r}
		for j := range 100 {
			rv.Kept = append(rv.Kept, configMap("apps", fmt.Sprintf("kept-%03d", j)))
		}
		many = append(many, rv)
	}
	body = RevertComment(42, "main", many)
	checkMarkdown(t, "many reverts", body, MaxCommentChars)
	if !strings.HasSuffix(body, "_This comment is cut to GitHub's size limit — see the environment's check run._\n") {
		t.Errorf("cut revert comment does not say so; ends:\n%s", body[len(body)-300:])
	}
}
