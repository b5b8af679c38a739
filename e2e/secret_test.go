package e2e

import (
	"strings"
	"testing"
)

// A Secret's value appears nowhere: not in comments, check runs (title,
// summary, text, annotations), statuses or issues the emulator recorded,
// and not in the bot's log — but the key that changed is named.
func TestSecretValueNeverLeaves(t *testing.T) {
	const marker = "SUPERSECRET-e2e-7f3a9c"
	w := newWorld(t, options{})
	n, sha := w.openPR("secret", map[string]string{
		"deploy/staging/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: " + marker + "\n",
		"deploy/staging/bad.yaml":    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: broken\nstringData:\n  token: " + marker + "\n  token: twice\n",
	})
	w.waitPlanned(sha, "staging")
	w.gh.WaitForDeliveries()

	var seen []string
	for _, c := range w.gh.Comments(w.repo, n) {
		seen = append(seen, c.Body)
	}
	for _, c := range w.gh.CheckRuns(w.repo, sha) {
		seen = append(seen, c.Title, c.Summary, c.Text, c.ExternalID)
		for _, a := range c.Annotations {
			for _, v := range a {
				if s, ok := v.(string); ok {
					seen = append(seen, s)
				}
			}
		}
	}
	for _, s := range w.gh.Statuses(w.repo, sha) {
		seen = append(seen, s.Description)
	}
	for _, is := range w.gh.Issues(w.repo) {
		seen = append(seen, is.Title, is.Body)
	}
	all := strings.Join(seen, "\n")
	if strings.Contains(all, marker) {
		t.Errorf("the Secret value leaked into what GitHub recorded")
	}
	if strings.Contains(w.bot.logs.String(), marker) {
		t.Errorf("the Secret value leaked into the bot's log")
	}
	if !strings.Contains(all, "password") {
		t.Errorf("the changed Secret key is not named anywhere:\n%s", all)
	}
}
