// Command sandbox runs tugboat end to end on this machine, with no GitHub
// account and no cluster: two local control planes (staging, prod) with
// examples/ deployed from main, the GitHub emulator serving examples/ as
// acme/shop-config with an open pull request, and the real bot between
// them. It prints the pull request page's URL and runs until Ctrl-C.
//
//	go run ./cmd/sandbox            interactive (make sandbox)
//	go run ./cmd/sandbox --script   the same, checked step by step, then exit (CI's smoke test)
//	go run ./cmd/sandbox --push     push the edited working copy to the running sandbox's PR
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/tugboatops/tugboat/comments"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type flags struct {
	script, push        bool
	message, dir        string
	githubAddr, botAddr string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f flags
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&f.script, "script", false, "run non-interactively: plan, approve, /apply staging, merge, drift, checking each step, then exit")
	fs.BoolVar(&f.push, "push", false, "push the running sandbox's working copy (DIR/pr-branch) to its pull request")
	fs.StringVar(&f.message, "m", "", "commit message for --push")
	fs.StringVar(&f.dir, "dir", "", "state directory (default .cache/sandbox in the checkout)")
	fs.StringVar(&f.githubAddr, "github-addr", "", "GitHub emulator address (default 127.0.0.1:8710; --script: a free port)")
	fs.StringVar(&f.botAddr, "bot-addr", "", "bot address (default 127.0.0.1:8711; --script: a free port)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	root, err := findModuleRoot()
	if err != nil {
		fmt.Fprintln(stderr, "sandbox:", err)
		return 1
	}
	if f.dir == "" {
		f.dir = filepath.Join(root, ".cache", "sandbox")
	}
	if f.push {
		return runPush(ctx, f, stdout, stderr)
	}
	if !f.script {
		f.githubAddr = or(f.githubAddr, "127.0.0.1:8710")
		f.botAddr = or(f.botAddr, "127.0.0.1:8711")
	}
	sb, err := Start(ctx, Options{Root: root, Dir: f.dir, BinDir: filepath.Join(root, ".cache", "bin"), GitHubAddr: f.githubAddr, BotAddr: f.botAddr, Out: stderr})
	if err != nil {
		fmt.Fprintln(stderr, "sandbox:", err)
		return 1
	}
	code := 0
	if f.script {
		code = script(ctx, sb, stderr)
	} else {
		interactive(ctx, sb, root, stdout)
	}
	sb.p.printf("stopping")
	if err := sb.Close(); err != nil {
		fmt.Fprintln(stderr, "sandbox:", err)
		code = 1
	}
	sb.p.printf("stopped")
	return code
}

func script(ctx context.Context, sb *Sandbox, stderr io.Writer) int {
	sb.p.printf("up in %s; checking the pull request %s", sb.Started.Round(100*time.Millisecond), sb.PRURL())
	if err := sb.runScript(ctx); err != nil {
		fmt.Fprintf(stderr, "sandbox: FAIL %v\n", err)
		fmt.Fprintf(stderr, "sandbox: the bot's log, last %d lines (all of it: %s):\n%s\n", logTailLines, sb.BotLog, sb.botLogTail(logTailLines))
		return 1
	}
	sb.p.printf("PASS: every check passed")
	return 0
}

// interactive waits for the first plan (so the page shows it when the
// person opens it), prints where everything is, and waits for Ctrl-C.
func interactive(ctx context.Context, sb *Sandbox, root string, out io.Writer) {
	sb.p.printf("waiting for the bot's plan of pull request #%d", sb.PR)
	if _, err := sb.waitForPlan(ctx, planOfPR); err != nil {
		sb.p.printf("the plan is not as expected yet: %v", err)
	} else {
		sb.p.printf("plan posted")
	}
	rel := func(p string) string {
		if r, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(r, "..") {
			return r
		}
		return p
	}
	fmt.Fprintf(out, `
tugboat sandbox is up (started in %s).

  Pull request  %s
  Repositories  %s/
  Bot           %s   /healthz  /readyz   (webhooks: %s)
  Bot admin     %s/metrics  %s/clusters
  Status page   %s
  Badges        %s  %s
  Logs          %s, %s
  Clusters      KUBECONFIG=%s kubectl get deploy -n shop-staging
                KUBECONFIG=%s kubectl get deploy -n shop-prod

On the pull request page, pick who you are — alice (admin), bob (the author),
carol (write) or dave (read-only) — and comment, review or merge:
  /plan  or  /plan staging     re-plan (the comment is updated in place)
  /apply staging               apply staging's plan (needs an approval: carol's, say)
  /unlock staging              release staging's lock
  /help                        what the bot understands
Prod deploys when the pull request merges, after staging: its check waits
for two approvals (carol's and alice's), and main requires it.
To push another commit, edit the files under %s
and run, in another terminal:
  go run ./cmd/sandbox --push -m "your message"
(--push with no edits pushes a prepared change: staging's api to 2 replicas)

Ctrl-C stops everything.
`, sb.Started.Round(100*time.Millisecond), sb.PRURL(), sb.GitHub.URL(), sb.BotURL, webhookPath, sb.AdminURL, sb.AdminURL,
		sb.statusURL(), sb.badgeURL("staging", "svg"), sb.badgeURL("prod", "svg"),
		rel(sb.BotLog), rel(filepath.Join(sb.opts.Dir, "github.log")),
		rel(filepath.Join(sb.opts.Dir, "kubeconfig-staging")), rel(filepath.Join(sb.opts.Dir, "kubeconfig-prod")),
		rel(sb.WorkDir))
	<-ctx.Done()
	fmt.Fprintln(out)
}

func runPush(ctx context.Context, f flags, stdout, stderr io.Writer) int {
	res, err := requestPush(ctx, f.dir, f.message)
	if err != nil {
		fmt.Fprintln(stderr, "sandbox --push:", err)
		return 1
	}
	fmt.Fprintf(stdout, "pushed %s to %s: %s\n", comments.ShortSHA(res.SHA), prBranch, res.Message)
	for _, p := range res.Written {
		fmt.Fprintf(stdout, "  M %s\n", p)
	}
	for _, p := range res.Deleted {
		fmt.Fprintf(stdout, "  D %s\n", p)
	}
	fmt.Fprintln(stdout, "the bot plans the new commit: reload the pull request page")
	return 0
}

// logTailLines is how much of the bot's log a failed --script prints.
const logTailLines = 40

// botLogTail is the last n lines of the bot's log.
func (s *Sandbox) botLogTail(n int) string {
	data, err := os.ReadFile(s.BotLog)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
