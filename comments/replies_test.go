package comments

import (
	"strings"
	"testing"
)

func TestReplies(t *testing.T) {
	tests := []struct {
		name, reply string
		want        []string
	}{
		{"fork", ForkReply(true), []string{"comes from a fork", "A maintainer (anyone with write access) can run `/plan`"}},
		{"no permission", ForkReply(false), []string{"`/plan` needs write access", "can run `/plan`"}},
		{"conflict", ConflictReply(headSHA), []string{"merge conflicts with its base branch: no plan until they are resolved", "`4f2a9c1`"}},
		{"apply", NotAvailableReply(Command{Verb: VerbApply, Envs: []string{"prod"}}), []string{"`/apply` is not available yet"}},
		{"unlock", NotAvailableReply(Command{Verb: VerbUnlock}), []string{"`/unlock` is not available yet"}},
	}
	for _, tt := range tests {
		for _, w := range tt.want {
			if !strings.Contains(tt.reply, w) {
				t.Errorf("%s reply lacks %q:\n%s", tt.name, w, tt.reply)
			}
		}
		if len(tt.reply) > MaxCommentChars {
			t.Errorf("%s reply too long", tt.name)
		}
		renderMarkdown(t, tt.reply)
	}
	if h := renderMarkdown(t, HelpText(slug)); len(h.tableCells) != 9 {
		t.Errorf("help table has %d rows, want header + 8 commands", len(h.tableCells))
	}
}
