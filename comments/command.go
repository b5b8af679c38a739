package comments

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Verb is what a command asks tugboat to do.
type Verb string

// The commands tugboat understands.
const (
	VerbPlan   Verb = "plan"
	VerbApply  Verb = "apply"
	VerbUnlock Verb = "unlock"
	VerbHelp   Verb = "help"
	// VerbPromote is `/promote FROM TO`: open a promotion pull request.
	VerbPromote Verb = "promote"
	// VerbRollback is `/rollback` (revert this merged pull request) or
	// `/rollback ENV --now` (break glass: re-apply ENV's previous deploy
	// at once and pin it).
	VerbRollback Verb = "rollback"
	// VerbUnpin is `/unpin ENV...`: let writes to a pinned environment go on.
	VerbUnpin Verb = "unpin"
)

// verbs in the order help lists them.
var verbs = []Verb{VerbPlan, VerbApply, VerbUnlock, VerbPromote, VerbRollback, VerbUnpin, VerbHelp}

// FlagNow makes /rollback ENV break glass: applied at once, then pinned.
const FlagNow = "--now"

// FlagAllowDangerous lets /apply go ahead with changes marked dangerous
// (see planner's danger.go).
const FlagAllowDangerous = "--allow-dangerous"

// Command is a parsed comment command.
type Command struct {
	Verb Verb
	// Envs are the environments named, in order, without duplicates; nil
	// means every affected environment. Always nil for VerbHelp.
	Envs []string
	// AllowDangerous is set by --allow-dangerous (VerbApply only).
	AllowDangerous bool
	// Now is set by --now (VerbRollback only).
	Now bool
}

// String is the canonical form of the command, e.g.
// "/apply staging prod --allow-dangerous". Parsing it yields c again.
func (c Command) String() string {
	var b strings.Builder
	b.WriteString("/")
	b.WriteString(string(c.Verb))
	for _, e := range c.Envs {
		b.WriteString(" ")
		b.WriteString(e)
	}
	if c.AllowDangerous {
		b.WriteString(" " + FlagAllowDangerous)
	}
	if c.Now {
		b.WriteString(" " + FlagNow)
	}
	return b.String()
}

// ErrNotCommand is returned by Parse for a comment that is not addressed to
// tugboat at all. Such comments get no reply.
var ErrNotCommand = errors.New("not a command")

// UsageError is a comment addressed to tugboat that it cannot carry out: an
// unknown command, a bad flag or an invalid environment name. Its Error text
// is the complete reply to post: what was wrong, then the help.
type UsageError struct {
	// Problem says what was wrong, in Markdown.
	Problem string
	// Help is HelpText for the app.
	Help string
}

func (e *UsageError) Error() string {
	return e.Problem + "\n\n" + e.Help
}

// envName is a DNS-1123 label: environment names become check-run, Lease
// and ApplySet names.
var envName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// maxEnvName is the DNS-1123 label length limit.
const maxEnvName = 63

// ValidEnvName reports whether name is a valid environment name (a DNS-1123
// label).
func ValidEnvName(name string) bool {
	return len(name) <= maxEnvName && envName.MatchString(name)
}

// Parse reads a command from the first line of a comment body: "/plan
// [env...]", "/apply [env...] [--allow-dangerous]", "/unlock [env...]",
// "/help", or the same addressed to the app as "@<appSlug> plan …".
// Leading whitespace (blank lines included) is ignored; everything after the
// first line is free text.
//
// It returns ErrNotCommand when the comment is not meant for tugboat — a
// slash word that is not one of its commands may belong to another bot
// (/lgtm, /hold), so only near misses of tugboat's own commands ("/plna")
// count as meant for it. Anything meant for tugboat that it cannot carry out
// returns a *UsageError whose text is the reply.
func Parse(body, appSlug string) (Command, error) {
	line := firstLine(body)
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return Command{}, ErrNotCommand
	}
	var verb string
	var args []string
	switch {
	case isMention(fields[0], appSlug):
		if len(fields) == 1 {
			return Command{}, usage(appSlug, "Tell me what to do:")
		}
		verb, args = strings.TrimPrefix(fields[1], "/"), fields[2:]
		if !knownVerb(verb) {
			return Command{}, usage(appSlug, fmt.Sprintf("Unknown command %s.", code(clip(verb, 80))))
		}
	case strings.HasPrefix(fields[0], "/"):
		verb, args = fields[0][1:], fields[1:]
		if !knownVerb(verb) {
			if v, ok := nearMiss(verb); ok {
				return Command{}, usage(appSlug, fmt.Sprintf("Unknown command %s — did you mean %s?",
					code("/"+clip(verb, 80)), code("/"+string(v))))
			}
			return Command{}, ErrNotCommand
		}
	default:
		return Command{}, ErrNotCommand
	}
	return parseArgs(Verb(strings.ToLower(verb)), args, appSlug)
}

// firstLine returns the first line of body after leading whitespace.
func firstLine(body string) string {
	body = strings.TrimLeft(body, " \t\r\n\v\f")
	if i := strings.IndexAny(body, "\r\n"); i >= 0 {
		body = body[:i]
	}
	return body
}

// isMention reports whether word addresses the app: "@slug" or "@slug[bot]",
// case-insensitively as GitHub logins are.
func isMention(word, appSlug string) bool {
	if appSlug == "" || !strings.HasPrefix(word, "@") {
		return false
	}
	w := strings.TrimSuffix(strings.ToLower(word[1:]), "[bot]")
	return w == strings.ToLower(appSlug)
}

func knownVerb(w string) bool {
	for _, v := range verbs {
		if strings.EqualFold(w, string(v)) {
			return true
		}
	}
	return false
}

// nearMiss finds the command a mistyped slash word was probably meant to be
// (one edit or transposition away). Shorter words are left alone: "/cc" is
// another bot's.
func nearMiss(w string) (Verb, bool) {
	w = strings.ToLower(w)
	if len(w) < 3 || len(w) > 12 {
		return "", false
	}
	for _, v := range verbs {
		if osaDistance(w, string(v)) <= 1 {
			return v, true
		}
	}
	return "", false
}

// parseArgs reads the environments and flags after a known verb.
func parseArgs(v Verb, args []string, appSlug string) (Command, error) {
	cmd := Command{Verb: v}
	if v == VerbHelp {
		// "/help apply" still deserves the help; the words add nothing.
		return cmd, nil
	}
	seen := map[string]bool{}
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			if a == FlagAllowDangerous && v == VerbApply {
				cmd.AllowDangerous = true
				continue
			}
			if a == FlagNow && v == VerbRollback {
				cmd.Now = true
				continue
			}
			return Command{}, usage(appSlug, fmt.Sprintf("%s does not take the flag %s.",
				code("/"+string(v)), code(clip(a, 80))))
		}
		if !ValidEnvName(a) {
			return Command{}, usage(appSlug, fmt.Sprintf("%s is not an environment name "+
				"(environment names are lower-case DNS labels such as `staging`).", code(clip(a, 80))))
		}
		// /promote keeps both names as written, so "/promote prod prod"
		// is refused as promoting to itself rather than read as one name.
		if !seen[a] || v == VerbPromote {
			seen[a] = true
			cmd.Envs = append(cmd.Envs, a)
		}
	}
	return cmd, checkArity(cmd, appSlug)
}

// checkArity refuses the release commands with the wrong number of names.
func checkArity(cmd Command, appSlug string) error {
	switch {
	case cmd.Verb == VerbPromote && len(cmd.Envs) != 2:
		return usage(appSlug, "`/promote` takes two environments: `/promote FROM TO`, like `/promote staging prod`.")
	case cmd.Verb == VerbRollback && cmd.Now && len(cmd.Envs) != 1:
		return usage(appSlug, "`/rollback --now` takes one environment: `/rollback prod --now`.")
	case cmd.Verb == VerbRollback && !cmd.Now && len(cmd.Envs) > 0:
		return usage(appSlug, "`/rollback` on a merged pull request opens its revert pull request and takes no environment; "+
			"to roll an environment back at once, write `/rollback ENV --now`.")
	case cmd.Verb == VerbUnpin && len(cmd.Envs) == 0:
		return usage(appSlug, "`/unpin` takes the environments to unpin: `/unpin prod`.")
	}
	return nil
}

func usage(appSlug, problem string) error {
	return &UsageError{Problem: problem, Help: HelpText(appSlug)}
}

// osaDistance is the optimal string alignment distance (Levenshtein plus
// adjacent transpositions) between two short ASCII-ish strings.
func osaDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
