package comments

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"
)

// What promotion, rollback, pins and history look like: pull request
// titles and bodies, replies, and the reasons they are refused.

// PromotedImage is one image a promotion changes; Before is "" for an
// entry the target did not have.
type PromotedImage struct {
	Name string
	// Before and After are the full references ("registry/web:1.6.0").
	Before, After string
	// Version is the short form for the title ("1.6.0").
	Version string
}

// Promotion is a promotion pull request's content.
type Promotion struct {
	From, To string
	Images   []PromotedImage
	// Files are the repository paths copied as they are.
	Files []string
	// Values are the Helm value paths copied (promote.values).
	Values []PromotedValue
	// Commit is the commit From has deployed, its PR the pull request it
	// came from (0: none), Deployed when.
	Commit   string
	PR       int
	Deployed time.Time
	// Requester asked for the promotion; their own approval of it does not
	// count (they are its author in all but name).
	Requester string
}

// PromotedValue is one Helm value a promotion copies into File: Before
// is what File said ("" when it did not set it), After what it says now.
type PromotedValue struct {
	Path, File, Before, After string
}

// maxTitle is GitHub's limit on a pull request title.
const maxTitle = 256

// PromotionBranch is the bot's branch for promotions from one environment
// to another.
func PromotionBranch(from, to string) string { return PromotionBranchPrefix + from + "-to-" + to }

// PromotionBranchPrefix starts the name of every promotion branch.
const PromotionBranchPrefix = "tugboat/promote-"

// IsPromotionBranch reports whether branch is a promotion pull request's.
func IsPromotionBranch(branch string) bool { return strings.HasPrefix(branch, PromotionBranchPrefix) }

// PromotionTitle is "Promote staging → prod: web 1.6.0, api 2.3.1": each
// image by the last part of its name (ghcr.io/acme/web → web; the body has
// the full references).
func PromotionTitle(p Promotion) string {
	var what []string
	for _, im := range p.Images {
		what = append(what, path.Base(im.Name)+" "+im.Version)
	}
	for _, v := range p.Values {
		what = append(what, v.Path+" "+v.After)
	}
	if len(p.Files) > 0 {
		what = append(what, plural(len(p.Files), "file"))
	}
	t := fmt.Sprintf("Promote %s → %s: %s", p.From, p.To, strings.Join(what, ", "))
	return clip(oneLine(t), maxTitle)
}

// requesterMarker carries the requester in a promotion's body, for the
// approval rule; only pull requests the bot opened are read for it.
var requesterMarker = regexp.MustCompile(`<!-- tugboat:promotion requested-by=([A-Za-z0-9-]+(?:\[bot\])?) -->`)

// PromotionRequester reads the requester out of a promotion pull
// request's body ("" when none).
func PromotionRequester(body string) string {
	m := requesterMarker.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// PromotionBody lists each image before → after, the files copied, and
// where they come from.
func PromotionBody(p Promotion) string {
	w := newBudget(MaxCommentChars)
	src := "commit " + code(ShortSHA(p.Commit))
	if p.PR > 0 {
		src += fmt.Sprintf(" (#%d)", p.PR)
	}
	w.add(fmt.Sprintf("Makes **%s** run what **%s** runs now: %s, deployed %s.\n\n",
		text(envLabel(p.To)), text(envLabel(p.From)), src, p.Deployed.UTC().Format("2006-01-02 15:04 UTC")))
	if len(p.Images) > 0 {
		w.add("| image | " + text(envLabel(p.To)) + " now | after this pull request |\n|---|---|---|\n")
		for _, im := range p.Images {
			before := code(im.Before)
			if im.Before == "" {
				before = "_(not set)_"
			}
			if !w.add(fmt.Sprintf("| %s | %s | %s |\n", cell(code(im.Name)), cell(before), cell(code(im.After)))) {
				w.note("\n_…the rest did not fit._\n")
				break
			}
		}
		w.add("\n")
	}
	if len(p.Values) > 0 {
		w.add("| value | file | " + text(envLabel(p.To)) + " now | after this pull request |\n|---|---|---|---|\n")
		for _, v := range p.Values {
			before := code(v.Before)
			if v.Before == "" {
				before = "_(not set)_"
			}
			if !w.add(fmt.Sprintf("| %s | %s | %s | %s |\n", cell(code(v.Path)), cell(code(v.File)), cell(before), cell(code(v.After)))) {
				w.note("\n_…the rest did not fit._\n")
				break
			}
		}
		w.add("\n")
	}
	if len(p.Files) > 0 {
		w.add("Files copied from " + text(envLabel(p.From)) + ":\n\n")
		for _, f := range p.Files {
			if !w.add("- " + code(f) + "\n") {
				break
			}
		}
		w.add("\n")
	}
	w.add("It is planned, approved and applied like any pull request. A new `/promote` updates it while it is open.\n")
	if p.Requester != "" {
		w.add(fmt.Sprintf("\nRequested by %s, whose own approval does not count.\n", login(p.Requester)))
		w.add(fmt.Sprintf("\n<!-- tugboat:promotion requested-by=%s -->\n", p.Requester))
	}
	return w.String()
}

// PromoteReply says which pull request a promotion opened or updated.
func PromoteReply(from, to string, number int, updated bool) string {
	verb := "Opened"
	if updated {
		verb = "Updated"
	}
	return fmt.Sprintf("%s #%d to promote **%s** to **%s**.\n", verb, number, text(envLabel(from)), text(envLabel(to)))
}

// NothingToPromoteReply: to runs what from runs already.
func NothingToPromoteReply(from, to, commit string) string {
	return fmt.Sprintf("Nothing to promote: **%s** already has what **%s** runs (commit %s).\n",
		text(envLabel(to)), text(envLabel(from)), code(ShortSHA(commit)))
}

// PromoteRefusedReply says why a promotion was not made.
func PromoteRefusedReply(actor string, reasons ...Reason) string {
	return refusedReply(actor, "not promoted", []Refusal{{Reasons: reasons}})
}

// ReasonNoPromote: the target environment declares no promote:.
func ReasonNoPromote(to string) Reason {
	return reason(fmt.Sprintf("%s has no `promote:` in `.tugboat.yaml` (like `promote: {from: staging, images: true}`)", code(envLabel(to))),
		to+" declares no promote")
}

// ReasonPromoteFrom: the target is promoted from another environment.
func ReasonPromoteFrom(to, declared, asked string) Reason {
	return reason(fmt.Sprintf("%s is promoted from %s, not %s", code(envLabel(to)), code(envLabel(declared)), code(envLabel(asked))),
		to+" is promoted from "+declared)
}

// ReasonPromoteSelf: from and to are the same environment.
func ReasonPromoteSelf(env string) Reason {
	return reason(fmt.Sprintf("%s cannot be promoted to itself", code(envLabel(env))), "cannot promote to itself")
}

// ReasonNeverDeployed: the environment has no deploy on record.
func ReasonNeverDeployed(env string) Reason {
	return reason(fmt.Sprintf("%s has never been deployed: there is nothing to promote from it", code(envLabel(env))), env+" was never deployed")
}

// ReasonNotConverged: the environment's last deploy did not converge.
func ReasonNotConverged(env, commit, outcome string) Reason {
	return reason(fmt.Sprintf("%s's last deploy (%s) is %s, not converged", code(envLabel(env)), code(ShortSHA(commit)), text(clip(outcome, 50))),
		env+"'s last deploy did not converge")
}

// ReasonRunsUnmerged: the environment runs a pull request applied before
// merge, which is not the repository's content yet.
func ReasonRunsUnmerged(env string, pr int) Reason {
	return reason(fmt.Sprintf("%s runs #%d, applied before merge and not merged: promote once it merges", code(envLabel(env)), pr),
		fmt.Sprintf("%s runs unmerged #%d", env, pr))
}

// ReasonBranchChanged: a person pushed to the bot's branch.
func ReasonBranchChanged(branch, author string) Reason {
	return reason(fmt.Sprintf("branch %s was changed by %s; tugboat does not overwrite it: merge or close its pull request, or delete the branch",
		code(branch), login(author)), "branch "+branch+" was changed by "+author)
}

// ReasonPromoteMissing: a file or kustomization to copy from is missing.
func ReasonPromoteMissing(path, env, commit string) Reason {
	return reason(fmt.Sprintf("%s does not exist in %s's deployed commit %s", code(path), code(envLabel(env)), code(ShortSHA(commit))),
		path+" is missing")
}

// RevertReply links the revert pull request /rollback opened.
func RevertReply(pr, revert int) string {
	return fmt.Sprintf("Opened #%d to revert #%d. It is planned, approved and applied like any pull request.\n", revert, pr)
}

// RollbackRefusedReply says why /rollback did nothing.
func RollbackRefusedReply(actor string, reasons ...Reason) string {
	return refusedReply(actor, "not rolled back", []Refusal{{Reasons: reasons}})
}

// ReasonNotMergedYet: /rollback on an open or closed pull request.
func ReasonNotMergedYet() Reason {
	return reason("the pull request is not merged: there is nothing to revert (close it instead)", "the pull request is not merged")
}

// ReasonRevertConflict: GitHub could not revert the pull request; files
// are those it changed that changed again since (empty: it was reverted
// already).
func ReasonRevertConflict(files []string) Reason {
	if len(files) == 0 {
		return reason("GitHub could not revert it: its changes were reverted already (the inverse is empty)", "already reverted")
	}
	return reason("GitHub could not revert it cleanly: these files changed since it merged: "+names(files),
		"revert conflicts in "+plainNames(files))
}

// ReasonNoBreakGlass: the person may not /rollback --now.
func ReasonNoBreakGlass(env string, allowed []string) Reason {
	who := "repository admins"
	if len(allowed) > 0 {
		who += " and " + names(allowed)
	}
	return reason(fmt.Sprintf("`/rollback %s --now` is for %s (the environment's `break_glass:`)", envLabel(env), who),
		"break glass is for admins and break_glass")
}

// ReasonNoPrevious: the record has no earlier successful deploy.
func ReasonNoPrevious(env string) Reason {
	return reason(fmt.Sprintf("%s's history has no earlier successful deploy to go back to", code(envLabel(env))), "no earlier successful deploy")
}

// Pin is an environment's pin as shown.
type Pin struct {
	Env, Commit, By string
	Time            time.Time
	// RevertPR is the revert pull request whose merge unpins (0: none).
	RevertPR int
}

// PinText is "pinned at abc1234 by alice", for statuses, badges and the
// status page.
func PinText(p Pin) string {
	return plainLine(fmt.Sprintf("pinned at %s by %s", ShortSHA(p.Commit), p.By), 100)
}

// ReasonPinned: the environment is pinned, so nothing is written to it.
func ReasonPinned(p Pin) Reason {
	how := "`/unpin " + envLabel(p.Env) + "`"
	if p.RevertPR > 0 {
		how = fmt.Sprintf("merging #%d or %s", p.RevertPR, how)
	}
	return reason(fmt.Sprintf("%s is pinned at %s by %s (break-glass rollback); %s lets deploys go on",
		code(envLabel(p.Env)), code(ShortSHA(p.Commit)), login(p.By), how), PinText(p))
}

// RollbackNowReply reports a break-glass rollback.
func RollbackNowReply(env, commit string, converged bool, revertPR int, revertWhy *Reason) string {
	var b strings.Builder
	e := "**" + text(envLabel(env)) + "**"
	if converged {
		fmt.Fprintf(&b, "Rolled %s back to %s, its previous successful deploy, and pinned it there: ", e, code(ShortSHA(commit)))
	} else {
		fmt.Fprintf(&b, "Re-applied %s at %s, its previous successful deploy, but it did not converge (see the apply's result); it is pinned there: ", e, code(ShortSHA(commit)))
	}
	b.WriteString("merges and `/apply` leave it alone, and drift is not healed.\n\n")
	switch {
	case revertPR > 0:
		fmt.Fprintf(&b, "Opened #%d to revert the change; merging it unpins %s. `/unpin %s` unpins it at once.\n", revertPR, e, envLabel(env))
	case revertWhy != nil:
		fmt.Fprintf(&b, "No revert pull request: %s. `/unpin %s` unpins it.\n", revertWhy.Markdown(), envLabel(env))
	default:
		fmt.Fprintf(&b, "`/unpin %s` unpins it.\n", envLabel(env))
	}
	return b.String()
}

// UnpinReply reports /unpin.
func UnpinReply(envs []string, wasPinned []bool) string {
	var b strings.Builder
	for i, e := range envs {
		if wasPinned[i] {
			fmt.Fprintf(&b, "- Unpinned **%s**: the next merge or `/apply` deploys it again.\n", text(envLabel(e)))
		} else {
			fmt.Fprintf(&b, "- **%s** was not pinned.\n", text(envLabel(e)))
		}
	}
	return b.String()
}

// UnpinRefusedReply says why /unpin did nothing.
func UnpinRefusedReply(actor string, refusals []Refusal) string {
	return refusedReply(actor, "not unpinned", refusals)
}
