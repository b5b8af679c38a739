// Command bot is tugboat: the GitHub App server and its local tools.
//
//	bot plan     preview the plan of a repository checkout against the clusters
//	bot apply    apply a checkout's plan and wait until it has converged
//	bot serve    run the GitHub App
//	bot badge-url  print an environment's badge URL
//	bot promote  write what one environment runs into another's files
//	bot rollback break glass: apply an earlier commit and pin the environment
//	bot history  an environment's last deploys (who and marks from GitHub) and its pin
//	bot setup    register the GitHub App (manifest flow) and write its credentials
//
// A hidden `__render` subcommand is the sandboxed render child the bot
// re-executes itself as (see planner.Renderer).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/tugboatops/tugboat/planner"
)

// renderSubcommand re-executes the bot as its own render child.
const renderSubcommand = "__render"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches to a subcommand and returns the process's exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 1
	}
	switch args[0] {
	case "plan":
		return runPlan(ctx, args[1:], stdout, stderr)
	case "serve":
		return runServe(ctx, args[1:], stderr)
	case "apply":
		return runApply(ctx, args[1:], stdout, stderr)
	case "badge-url":
		return runBadgeURL(args[1:], stdout, stderr)
	case "rollback":
		return runRollback(ctx, args[1:], stdout, stderr)
	case "history":
		return runHistory(ctx, args[1:], stdout, stderr)
	case "promote":
		return runPromote(ctx, args[1:], stdout, stderr)
	case "setup":
		return runSetup(ctx, args[1:], stdout, stderr)
	case renderSubcommand:
		if err := planner.RunRenderChild(stdin, stdout); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "bot: unknown command %q\n", args[0])
		usage(stderr)
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: bot <command> [flags]

commands:
  plan    show what applying a repository checkout would change in its environments
  apply   apply a checkout's plan, prune, and wait until it has converged (disaster recovery, local use)
  serve   run the GitHub App: webhooks in, plans out (--config server.yaml)
  badge-url  print an environment's badge URL, with its token (--config server.yaml OWNER/REPO ENV)
  promote write what one environment runs into another's files in the checkout (--from staging --to prod)
  rollback break glass: apply an earlier commit to an environment and pin it there (--env prod --to SHA --yes)
  history list an environment's last deploys and its pin (--env prod)
  setup   register tugboat as a GitHub App and write its credentials (--public-url https://tugboat.example.com)

Run "bot <command> -h" for a command's flags.
`)
}
