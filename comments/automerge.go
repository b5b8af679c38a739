package comments

import "strings"

// AutomergedReply says the bot merged the pull request (or queued it) once
// every environment it applies before merge had converged.
func AutomergedReply(queued bool) string {
	if queued {
		return "🚢 Every environment this pull request applies before merge has converged: `automerge` put it in the merge queue.\n"
	}
	return "🚢 Every environment this pull request applies before merge has converged: `automerge` merged it.\n"
}

// AutomergeWaitingReply says why automerge has not merged yet.
func AutomergeWaitingReply(unmet []Reason) string {
	var b strings.Builder
	b.WriteString("Every environment this pull request applies before merge has converged, but `automerge` waits: it is not mergeable yet.\n\n")
	for _, r := range unmet {
		b.WriteString("- " + r.Markdown() + "\n")
	}
	b.WriteString("\nMerge it yourself once these are resolved.\n")
	return b.String()
}

// AutomergeFailedReply says GitHub refused the merge.
func AutomergeFailedReply(msg string) string {
	return "`automerge` could not merge this pull request: GitHub answered\n\n" + codeBlock("text", clip(msg, 2000)) + "\nMerge it yourself.\n"
}
