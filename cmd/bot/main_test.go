package main

import (
	"context"
	"os"
	"testing"

	"github.com/tugboatops/tugboat/internal/kubetest"
)

// cluster is the control plane the end-to-end tests plan against.
var cluster *kubetest.Cluster

// TestMain makes the test binary the bot itself when called with a bot
// subcommand: the tests run it as a subprocess exactly as a user runs
// `bot plan`, and it re-executes itself as `__render`, as the real binary
// does.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && (os.Args[1] == "plan" || os.Args[1] == renderSubcommand) {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	kubetest.Main(m, &cluster)
}
