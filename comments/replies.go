package comments

import (
	"fmt"
	"strings"
)

// HelpText is the reply to /help and the tail of every usage error: the
// commands, each with one line on what it does.
func HelpText(appSlug string) string {
	var b strings.Builder
	b.WriteString("**tugboat commands** (comment on the pull request; only the first line counts):\n\n")
	b.WriteString("| Command | What it does |\n|---|---|\n")
	b.WriteString("| `/plan [env...]` | Plan again: every affected environment, or only those named. |\n")
	b.WriteString("| `/apply [env...] [--allow-dangerous]` | Apply the plan shown for `on-comment` environments " +
		"(all with changes, or those named) once their requirements are met, and lock them to this pull request until it merges or closes. " +
		"`--allow-dangerous` is needed for changes the plan marks dangerous (deleting a Namespace, volume, CRD, webhook, APIService, " +
		"LoadBalancer Service, a StatefulSet that deletes its claims, or RBAC granting tugboat; taking over another ApplySet's object). |\n")
	b.WriteString("| `/unlock [env...]` | Release the environments' locks (this pull request's, or another's that blocks you). |\n")
	b.WriteString("| `/promote FROM TO` | Open (or update) a pull request that makes `TO` run what `FROM` runs now (on any pull request or issue). |\n")
	b.WriteString("| `/rollback` | On a merged pull request: open its revert pull request. |\n")
	b.WriteString("| `/rollback ENV --now` | Break glass (admins and `break_glass:`): re-apply ENV's previous deploy at once and pin ENV until the revert merges or `/unpin`. |\n")
	b.WriteString("| `/unpin ENV...` | Let deploys to a pinned environment go on. |\n")
	b.WriteString("| `/help` | Show this help. |\n")
	if appSlug != "" {
		fmt.Fprintf(&b, "\nEvery command also works addressed to the app: %s.\n", code("@"+appSlug+" plan staging"))
	}
	return b.String()
}

// ForkReply explains why a pull request from a fork, or a /plan from someone
// without write access, got no plan: a plan dry-runs against the live
// clusters, which needs write rights and reveals live state.
func ForkReply(fromFork bool) string {
	why := "`/plan` needs write access to this repository"
	if fromFork {
		why = "This pull request comes from a fork, so it is not planned automatically"
	}
	return why + ": a plan dry-runs the change against the live clusters and shows what is running there.\n\n" +
		"A maintainer (anyone with write access) can run `/plan` to plan it.\n"
}

// ConflictReply says why a pull request with merge conflicts gets no plan.
// tugboat plans what merging would deploy, and there is no such thing until
// the conflicts are resolved.
func ConflictReply(headSHA string) string {
	return fmt.Sprintf("This pull request has merge conflicts with its base branch: no plan until they are resolved.\n\n"+
		"tugboat plans what merging would deploy (GitHub's test merge commit), and commit %s cannot be merged yet. "+
		"Push a commit that resolves the conflicts and it will be planned.\n", code(ShortSHA(headSHA)))
}

// NotAvailableReply answers commands that are parsed but not carried out
// yet. The handlers still answer /apply and /unlock with it until the
// apply flow lands (handlers/issue_comment.go, handlers/check_run.go).
func NotAvailableReply(cmd Command) string {
	return fmt.Sprintf("%s is not available yet: this version of tugboat plans pull requests but does not "+
		"apply them or take locks. The plan comment shows what applying would do.\n", code("/"+string(cmd.Verb)))
}
