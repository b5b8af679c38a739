package e2e

import (
	"encoding/base64"
	"strings"
	"testing"
)

// leakForms are the ways a secret value can show up in text: as itself,
// and base64-encoded (standard and URL alphabets) at each of the three
// alignments it can have inside a longer encoded string — a Secret's
// data, a JSON document, a whole manifest. Each encoded form is the run of
// characters that depends on the value alone.
func leakForms(value string) []string {
	forms := []string{value}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		for off := 0; off < 3; off++ {
			full := enc.EncodeToString(append(make([]byte, off), value...))
			from, to := (8*off+5)/6, 8*(off+len(value))/6
			forms = append(forms, full[from:to])
		}
	}
	return forms
}

// leaked names the form of value found in text, or "".
func leaked(text, value string) string {
	for _, f := range leakForms(value) {
		if strings.Contains(text, f) {
			return f
		}
	}
	return ""
}

// A Secret's value appears nowhere: not in comments, check runs (title,
// summary, text, annotations), statuses or issues the emulator recorded,
// and not in the bot's log — but the key that changed is named.
func TestSecretValueNeverLeaves(t *testing.T) {
	const marker = "SUPERSECRET-e2e-7f3a9c"
	// A value that the repository holds only base64-encoded (data:).
	const dataMarker = "DATASECRET-e2e-41d8b2"
	w := newWorld(t, options{})
	n, sha := w.openPR("secret", map[string]string{
		"deploy/staging/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: " + marker + "\n",
		"deploy/staging/data.yaml":   "apiVersion: v1\nkind: Secret\nmetadata:\n  name: api\ndata:\n  apikey: " + base64.StdEncoding.EncodeToString([]byte(dataMarker)) + "\n",
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
	for _, v := range []string{marker, dataMarker} {
		if f := leaked(all, v); f != "" {
			t.Errorf("the Secret value %s leaked into what GitHub recorded (as %q)", v, f)
		}
		if f := leaked(w.bot.logs.String(), v); f != "" {
			t.Errorf("the Secret value %s leaked into the bot's log (as %q)", v, f)
		}
	}
	for _, key := range []string{"password", "apikey"} {
		if !strings.Contains(all, key) {
			t.Errorf("the changed Secret key %s is not named anywhere:\n%s", key, all)
		}
	}
}

// TestLeakFormsFindEncodedValues: the leak check finds a value base64-
// encoded inside longer data at any alignment, in either alphabet.
func TestLeakFormsFindEncodedValues(t *testing.T) {
	const v = "SUPERSECRET-e2e-7f3a9c"
	for _, prefix := range []string{"", "a", "ab", "abc", `{"password":"`} {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding} {
			blob := enc.EncodeToString([]byte(prefix + v + `"} and more`))
			if leaked("data: "+blob+"\n", v) == "" {
				t.Errorf("%q encoded after %q not found in %s", v, prefix, blob)
			}
		}
	}
	if f := leaked(base64.StdEncoding.EncodeToString([]byte("SUPERSECRET-e2e-7f3a9d")), v); f != "" {
		t.Errorf("a different value matched as %q", f)
	}
}
