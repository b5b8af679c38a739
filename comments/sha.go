package comments

// ShortSHA abbreviates a commit SHA the way GitHub shows it (7 characters),
// for comments, check runs, logs and messages alike. gh, which imports none
// of tugboat's packages, writes the same with the %.7s verb.
func ShortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
