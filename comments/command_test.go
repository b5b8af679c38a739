package comments

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const slug = "tugboat-app"

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		body string
		want Command
	}{
		{"/plan", Command{Verb: VerbPlan}},
		{"/plan staging", Command{Verb: VerbPlan, Envs: []string{"staging"}}},
		{"  \n\t/plan staging prod\nthanks!", Command{Verb: VerbPlan, Envs: []string{"staging", "prod"}}},
		{"/plan prod staging prod", Command{Verb: VerbPlan, Envs: []string{"prod", "staging"}}},
		{"/PLAN eu-west-1", Command{Verb: VerbPlan, Envs: []string{"eu-west-1"}}},
		{"/plan\r\n/apply", Command{Verb: VerbPlan}},
		{"/help", Command{Verb: VerbHelp}},
		{"/help apply", Command{Verb: VerbHelp}},
		{"/apply", Command{Verb: VerbApply}},
		{"/apply staging --allow-dangerous", Command{Verb: VerbApply, Envs: []string{"staging"}, AllowDangerous: true}},
		{"/apply --allow-dangerous staging", Command{Verb: VerbApply, Envs: []string{"staging"}, AllowDangerous: true}},
		{"/unlock prod", Command{Verb: VerbUnlock, Envs: []string{"prod"}}},
		{"/unlock", Command{Verb: VerbUnlock}},
		{"/unlock staging prod staging", Command{Verb: VerbUnlock, Envs: []string{"staging", "prod"}}},
		{"/apply staging --allow-dangerous prod", Command{Verb: VerbApply, Envs: []string{"staging", "prod"}, AllowDangerous: true}},
		{"/apply --allow-dangerous", Command{Verb: VerbApply, AllowDangerous: true}},
		{"@tugboat-app unlock qa", Command{Verb: VerbUnlock, Envs: []string{"qa"}}},
		{"@tugboat-app plan staging", Command{Verb: VerbPlan, Envs: []string{"staging"}}},
		{"@Tugboat-App /apply prod", Command{Verb: VerbApply, Envs: []string{"prod"}}},
		{"@tugboat-app[bot] help", Command{Verb: VerbHelp}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.body, slug)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.body, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q) = %#v, want %#v", tt.body, got, tt.want)
		}
	}
}

func TestParseNotCommand(t *testing.T) {
	for _, body := range []string{
		"", "   \n  ", "LGTM", "looks good\n/plan", "> /plan staging", "/lgtm", "/hold", "/cc @alice",
		"/etc/passwd is world-readable", "@someone-else plan", "plan staging", "/ plan", "`/plan`",
	} {
		if _, err := Parse(body, slug); !errors.Is(err, ErrNotCommand) {
			t.Errorf("Parse(%q) = %v, want ErrNotCommand", body, err)
		}
	}
	if _, err := Parse("@ plan", ""); !errors.Is(err, ErrNotCommand) {
		t.Errorf("mention with no app slug configured: %v, want ErrNotCommand", err)
	}
}

func TestParseUsageErrors(t *testing.T) {
	tests := []struct {
		body, problem string
	}{
		{"/plna staging", "did you mean `/plan`?"},
		{"/aply", "did you mean `/apply`?"},
		{"/plan --allow-dangerous", "`/plan` does not take the flag `--allow-dangerous`."},
		{"/apply --force", "`/apply` does not take the flag `--force`."},
		{"/unlock -a", "`/unlock` does not take the flag `-a`."},
		{"/unlock staging --allow-dangerous", "`/unlock` does not take the flag `--allow-dangerous`."},
		{"/apply staging --dry-run", "`/apply` does not take the flag `--dry-run`."},
		{"/apply --allow-dangerous=true", "`/apply` does not take the flag `--allow-dangerous=true`."},
		{"/apply Prod", "`Prod` is not an environment name"},
		{"/unlok staging", "did you mean `/unlock`?"},
		{"/plan Staging", "`Staging` is not an environment name"},
		{"/plan staging.", "`staging.` is not an environment name"},
		{"/plan " + strings.Repeat("a", 64), "is not an environment name"},
		{"@tugboat-app deploy prod", "Unknown command `deploy`."},
		{"@tugboat-app", "Tell me what to do"},
		{"/plan `x`", "`` `x` `` is not an environment name"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.body, slug)
		var ue *UsageError
		if !errors.As(err, &ue) {
			t.Errorf("Parse(%q) = %v, want *UsageError", tt.body, err)
			continue
		}
		if !strings.Contains(ue.Problem, tt.problem) {
			t.Errorf("Parse(%q) problem = %q, want it to contain %q", tt.body, ue.Problem, tt.problem)
		}
		// The reply ends with the help, so the user sees what would work.
		if !strings.HasSuffix(err.Error(), HelpText(slug)) || !strings.Contains(err.Error(), "`/plan [env...]`") {
			t.Errorf("Parse(%q) reply does not end with the help:\n%s", tt.body, err.Error())
		}
	}
}

func TestParseLongestEnvName(t *testing.T) {
	name := strings.Repeat("a", 63)
	got, err := Parse("/plan "+name, slug)
	if err != nil || len(got.Envs) != 1 || got.Envs[0] != name {
		t.Fatalf("63-character name: %#v, %v", got, err)
	}
}

func TestCommandString(t *testing.T) {
	c := Command{Verb: VerbApply, Envs: []string{"staging", "prod"}, AllowDangerous: true}
	if got, want := c.String(), "/apply staging prod --allow-dangerous"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestHelpTextMentionsApp(t *testing.T) {
	h := HelpText(slug)
	for _, want := range []string{"`/plan [env...]`", "`/apply [env...] [--allow-dangerous]`", "`/unlock [env...]`", "`/help`", "`@tugboat-app plan staging`",
		"once their requirements are met, and lock them to this pull request until it merges or closes",
		"Release the environments' locks"} {
		if !strings.Contains(h, want) {
			t.Errorf("help lacks %s:\n%s", want, h)
		}
	}
	if strings.Contains(HelpText(""), "addressed to the app") {
		t.Errorf("help without an app slug mentions addressing the app")
	}
}

// FuzzParse checks that no comment makes Parse panic, that every error is
// either ErrNotCommand or a usage reply, and that every accepted command
// survives a round trip through its canonical form.
func FuzzParse(f *testing.F) {
	f.Add("/plan staging prod", slug)
	f.Add("@tugboat-app apply --allow-dangerous prod", slug)
	f.Fuzz(func(t *testing.T, body, appSlug string) {
		cmd, err := Parse(body, appSlug)
		if err != nil {
			var ue *UsageError
			if !errors.Is(err, ErrNotCommand) && !errors.As(err, &ue) {
				t.Fatalf("Parse(%q): unexpected error type %T: %v", body, err, err)
			}
			if ue != nil && !strings.HasSuffix(ue.Error(), HelpText(appSlug)) {
				t.Fatalf("usage error without help: %q", ue.Error())
			}
			return
		}
		for _, e := range cmd.Envs {
			if !ValidEnvName(e) {
				t.Fatalf("Parse(%q) accepted env %q", body, e)
			}
		}
		if cmd.AllowDangerous && cmd.Verb != VerbApply {
			t.Fatalf("Parse(%q): --allow-dangerous on %s", body, cmd.Verb)
		}
		canon := cmd.String()
		again, err := Parse(canon, appSlug)
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", canon, body, err)
		}
		if !reflect.DeepEqual(again, cmd) {
			t.Fatalf("round trip of %q via %q: %#v != %#v", body, canon, again, cmd)
		}
		if again.String() != canon {
			t.Fatalf("canonical form not stable: %q then %q", canon, again.String())
		}
	})
}

func TestParseReleaseCommands(t *testing.T) {
	for body, want := range map[string]Command{
		"/promote staging prod":        {Verb: VerbPromote, Envs: []string{"staging", "prod"}},
		"/promote prod prod":           {Verb: VerbPromote, Envs: []string{"prod", "prod"}},
		"/rollback":                    {Verb: VerbRollback},
		"/rollback prod --now":         {Verb: VerbRollback, Envs: []string{"prod"}, Now: true},
		"/unpin prod staging":          {Verb: VerbUnpin, Envs: []string{"prod", "staging"}},
		"@tugboat rollback prod --now": {Verb: VerbRollback, Envs: []string{"prod"}, Now: true},
	} {
		got, err := Parse(body, "tugboat")
		if err != nil || got.String() != want.String() || got.Now != want.Now || len(got.Envs) != len(want.Envs) {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", body, got, err, want)
		}
	}
	for body, want := range map[string]string{
		"/promote staging":            "takes two environments",
		"/promote a b c":              "takes two environments",
		"/rollback --now":             "takes one environment",
		"/rollback prod":              "takes no environment",
		"/unpin":                      "takes the environments to unpin",
		"/apply prod --now":           "does not take the flag `--now`",
		"/promote staging prod --now": "does not take the flag `--now`",
	} {
		_, err := Parse(body, "tugboat")
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(ue.Problem, want) {
			t.Errorf("Parse(%q) = %v; want a usage error with %q", body, err, want)
		}
	}
}
