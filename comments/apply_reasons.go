package comments

import (
	"fmt"
	"strings"

	"github.com/tugboatops/tugboat/planner"
)

// Reason is one reason an apply, unlock or deploy did not happen, in two
// forms: Markdown for replies and comments, and plain text for commit
// statuses and check-run titles, where GitHub renders no Markdown. Reasons
// are made only by the Reason functions below, so untrusted text (logins,
// check names, branch names) is escaped in one place.
type Reason struct {
	md, plain string
}

// Markdown is the reason for a reply or comment.
func (r Reason) Markdown() string { return r.md }

// Text is the reason as one line of plain text.
func (r Reason) Text() string { return r.plain }

func reason(md, plain string) Reason {
	return Reason{md: md, plain: plainLine(plain, 500)}
}

// names renders logins or other names as a list of code spans, at most 10
// of them: code spans show a name literally and ping nobody.
func names(list []string) string {
	var out []string
	for i, n := range list {
		if i == 10 {
			out = append(out, fmt.Sprintf("and %d more", len(list)-i))
			break
		}
		out = append(out, code(clip(n, 100)))
	}
	return strings.Join(out, ", ")
}

func plainNames(list []string) string {
	if len(list) > 10 {
		return strings.Join(list[:10], ", ") + fmt.Sprintf(" and %d more", len(list)-10)
	}
	return strings.Join(list, ", ")
}

// login renders a GitHub login as "@alice" that pings nobody.
func login(l string) string { return text("@" + clip(l, 100)) }

// ReasonNotAllowed: the person may not apply. Without appliers, applying
// needs write access; with them (the environment's `appliers:`), only
// those may, and repository admins.
func ReasonNotAllowed(appliers []string) Reason {
	if len(appliers) == 0 {
		return reason("applying needs write, maintain or admin permission on the repository",
			"needs write permission on the repository")
	}
	return reason("only the environment's `appliers:` may apply it: "+names(appliers)+" (and repository admins)",
		"only appliers may apply: "+plainNames(appliers))
}

// ReasonApprovals: `requires: [approved]` counted too few approvals —
// "needs 2 approvals, has 1".
func ReasonApprovals(need, have int) Reason {
	s := fmt.Sprintf("needs %s, has %d", plural(need, "approval"), have)
	return reason(s, s)
}

// ReasonChangesRequested: reviewers whose latest review requests changes.
func ReasonChangesRequested(logins ...string) Reason {
	var md []string
	for i, l := range logins {
		if i == 10 {
			md = append(md, fmt.Sprintf("and %d more", len(logins)-i))
			break
		}
		md = append(md, login(l))
	}
	return reason("changes requested by "+strings.Join(md, ", "), "changes requested by "+plainNames(logins))
}

// ReasonStaleApproval: an approval given on an earlier commit whose files
// differ from the head's, so it no longer counts.
func ReasonStaleApproval(reviewer, commit string) Reason {
	return reason(fmt.Sprintf("the approval by %s is for an older commit (%s) whose files differ", login(reviewer), code(ShortSHA(commit))),
		fmt.Sprintf("approval by %s is for an older commit", reviewer))
}

// ReasonConflict: the pull request cannot be merged into base.
func ReasonConflict(base string) Reason {
	return reason("the pull request conflicts with "+code(clip(base, 200)), "conflicts with "+base)
}

// ReasonDraft: the pull request is a draft.
func ReasonDraft() Reason {
	return reason("the pull request is a draft", "the pull request is a draft")
}

// ReasonClosed: the pull request is closed without being merged.
func ReasonClosed() Reason {
	return reason("the pull request is closed", "the pull request is closed")
}

// ReasonMerged: the pull request is merged and env was deployed at merge
// (or needs nothing): /apply on a merged pull request deploys only
// environments whose requirements were not met at merge.
func ReasonMerged(env string) Reason {
	return reason(fmt.Sprintf("the pull request is merged: %s was deployed on merge, and `/apply` on a merged pull request "+
		"only deploys environments that were held back by their requirements", text(envLabel(env))),
		"the pull request is merged")
}

// ReasonCheckFailed: a check other than tugboat's own did not succeed.
// conclusion is GitHub's ("failure", "timed_out", "cancelled", …).
func ReasonCheckFailed(name, conclusion string) Reason {
	how := "failed"
	if conclusion != "" && conclusion != "failure" && conclusion != "error" {
		how = "failed (" + clip(oneLine(conclusion), 50) + ")"
	}
	return reason("check "+code(clip(name, 200))+" "+text(how), "check "+name+" "+how)
}

// ReasonCheckPending: a check other than tugboat's own has not finished.
func ReasonCheckPending(name string) Reason {
	return reason("check "+code(clip(name, 200))+" is pending", "check "+name+" is pending")
}

// ReasonCheckMissing: a check the base branch requires has not reported on
// the head at all.
func ReasonCheckMissing(name string) Reason {
	return reason("required check "+code(clip(name, 200))+" has not reported", "required check "+name+" has not reported")
}

// ReasonLocked: another pull request holds the environment's lock.
func ReasonLocked(env string, holderPR int) Reason {
	cmd := Command{Verb: VerbUnlock, Envs: []string{envLabel(env)}}
	return reason(fmt.Sprintf("locked by #%d — %s on #%d (or here) releases it", holderPR, code(cmd.String()), holderPR),
		fmt.Sprintf("locked by #%d", holderPR))
}

// ReasonPlanChanged: the plan made now differs from the one shown; the new
// one is at planURL ("" when not posted yet).
func ReasonPlanChanged(env, planURL string) Reason {
	plan := "the new plan"
	if u := linkURL(planURL); u != "" {
		plan = "[the new plan](<" + u + ">)"
	}
	cmd := Command{Verb: VerbApply, Envs: []string{envLabel(env)}}
	return reason(fmt.Sprintf("the plan changed since it was shown; review %s and %s again", plan, code(cmd.String())),
		"the plan changed since it was shown")
}

// ReasonNotPlanned: the head commit has no plan yet (a push just arrived):
// nothing can be applied that nobody has seen.
func ReasonNotPlanned(env, head string) Reason {
	cmd := Command{Verb: VerbApply, Envs: []string{envLabel(env)}}
	return reason(fmt.Sprintf("the head %s has not been planned yet; review its plan once it is posted, then %s",
		code(ShortSHA(head)), code(cmd.String())), "the head "+ShortSHA(head)+" has not been planned yet")
}

// ReasonOlderHead: the Apply button pressed belongs to the plan of an
// older head.
func ReasonOlderHead(button, head string) Reason {
	return reason(fmt.Sprintf("this button is for %s; the pull request's head is now %s — review its plan and apply from there",
		code(ShortSHA(button)), code(ShortSHA(head))),
		fmt.Sprintf("this button is for %s; the head is now %s", ShortSHA(button), ShortSHA(head)))
}

// ReasonAlreadyApplied: the environment already runs this plan and
// converged, so there is nothing to write.
func ReasonAlreadyApplied(env, digest string) Reason {
	return reason(fmt.Sprintf("already applied: %s runs this plan (digest %s) and converged", text(envLabel(env)), code(clip(digest, 100))),
		"already applied: "+env+" runs this plan and converged")
}

// ReasonDeploysOnMerge: the environment is not applied by comment.
func ReasonDeploysOnMerge(env string, mode ApplyMode) Reason {
	return reason(fmt.Sprintf("%s deploys on merge (%s)", text(envLabel(env)), code("apply: "+clip(string(mode), 50))),
		env+" deploys on merge")
}

// ReasonUnknownEnv: the named environment is not in .tugboat.yaml.
func ReasonUnknownEnv(valid []string) Reason {
	if len(valid) == 0 {
		return reason("no such environment: `.tugboat.yaml` has none", "no such environment")
	}
	return reason("no such environment; the environments are "+names(valid), "no such environment")
}

// ReasonNotAffected: the pull request changes nothing the environment
// renders. affected lists those it does change.
func ReasonNotAffected(affected []string) Reason {
	if len(affected) == 0 {
		return reason("this pull request does not change it, nor any other environment", "not affected by this pull request")
	}
	return reason("this pull request does not change it; it changes "+names(affected), "not affected by this pull request")
}

// ReasonNoChanges: the environment's plan has nothing to write.
func ReasonNoChanges() Reason {
	return reason("nothing to apply: the cluster already matches the plan", "nothing to apply")
}

// ReasonNothingToApply: a /apply without environments found no on-comment
// environment with changes.
func ReasonNothingToApply() Reason {
	return reason("nothing to apply: no `on-comment` environment has changes", "nothing to apply")
}

// ReasonProblems: the environment's plan has problems and cannot be
// applied.
func ReasonProblems(n int) Reason {
	return reason(fmt.Sprintf("the plan has %s; fix them and push", plural(n, "problem")),
		"the plan has "+plural(n, "problem"))
}

// ReasonDangerous: the plan makes dangerous changes (deletes, or takeovers
// from another ApplySet) and the command did not say --allow-dangerous.
func ReasonDangerous(env string, changes []planner.Change) Reason {
	var deletes, takeovers []string
	for i, c := range changes {
		if i == 10 {
			deletes = append(deletes, fmt.Sprintf("and %d more", len(changes)-i))
			break
		}
		item := code(clip(objectName(c.Ref), 300))
		if c.Danger != "" {
			item += " (" + text(clip(c.Danger, 300)) + ")"
		}
		if c.Action == planner.ActionDelete {
			deletes = append(deletes, item)
		} else {
			takeovers = append(takeovers, item)
		}
	}
	var what []string
	if len(deletes) > 0 {
		what = append(what, "deletes "+strings.Join(deletes, ", "))
	}
	if len(takeovers) > 0 {
		what = append(what, "takes over "+strings.Join(takeovers, ", "))
	}
	cmd := Command{Verb: VerbApply, Envs: []string{envLabel(env)}, AllowDangerous: true}
	return reason(fmt.Sprintf("the plan %s; comment %s to allow it", strings.Join(what, " and "), code(cmd.String())),
		dangerousLine(changes))
}

// dangerousLine says in plain text which dangerous changes wait for
// --allow-dangerous: "deletes" when they all are, "changes" otherwise (a
// takeover is no delete).
func dangerousLine(changes []planner.Change) string {
	noun := "deletes"
	var refs []string
	for i, c := range changes {
		if c.Action != planner.ActionDelete {
			noun = "changes"
		}
		if i == 10 {
			refs = append(refs, fmt.Sprintf("and %d more", len(changes)-i))
			break
		}
		refs = append(refs, shortRef(c.Ref))
	}
	return "dangerous " + noun + " need " + FlagAllowDangerous + ": " + strings.Join(refs, ", ")
}

// ReasonMissingPermission: a GitHub call was refused for a permission the
// App's installation has not granted (e.g. "deployments: write").
// settingsURL is the installation's settings page, when known.
func ReasonMissingPermission(permission, settingsURL string) Reason {
	where := "the installation settings"
	if u := linkURL(settingsURL); u != "" {
		where = "[the installation settings](<" + u + ">)"
	}
	return reason(fmt.Sprintf("tugboat lacks the GitHub App permission %s: an owner of the installation must accept the App's new permissions in %s",
		code(clip(permission, 100)), where), "missing App permission "+permission+": accept the App's new permissions")
}

// ReasonAfterFailed: an `after:` environment failed at this commit.
func ReasonAfterFailed(env string) Reason {
	return reason(text(envLabel(env))+" failed", env+" failed")
}

// ReasonAfterNotDeployed: an `after:` environment was not deployed at
// this commit.
func ReasonAfterNotDeployed(env string) Reason {
	return reason(text(envLabel(env))+" was not deployed", env+" was not deployed")
}

// ReasonNoPullRequest: a push with no pull request deploys only
// environments without `requires:`.
func ReasonNoPullRequest() Reason {
	return reason("the pushed commit belongs to no pull request, and the environment has `requires:`", "no pull request")
}

// ReasonOther is any other reason, given as plain text (escaped here).
func ReasonOther(msg string) Reason {
	return reason(text(clip(msg, 2000)), msg)
}
