package comments

import "testing"

func TestShortSHA(t *testing.T) {
	for sha, want := range map[string]string{
		"0123456789abcdef0123456789abcdef01234567": "0123456",
		"0123456": "0123456",
		"abc":     "abc",
		"":        "",
	} {
		if got := ShortSHA(sha); got != want {
			t.Errorf("ShortSHA(%q) = %q, want %q", sha, got, want)
		}
	}
}
