package comments

// ConfigCheckSummary is the summary of the check run that validates the
// .tugboat.yaml a pull request changes: intro (plain text), then one bullet
// per problem, as many as fit in a check run's summary (GitHub's
// MaxCheckRunText), then how many more there are — a file with thousands
// of mistakes must still get its check run. Problems are plain text.
func ConfigCheckSummary(intro string, problems []string) string {
	w := newBudget(MaxCheckRunText)
	w.add(text(clip(intro, 2000)) + "\n\n")
	items := make([]string, len(problems))
	for i, p := range problems {
		items[i] = text(clip(p, 2000))
	}
	w.list("**Problems**", items, 0, ": see the annotations")
	return w.String()
}
