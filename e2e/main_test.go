// Package e2e runs the real bot binary (`bot serve`) over HTTP against the
// GitHub emulator (signed webhooks in, API calls out) and two real
// Kubernetes control planes, staging and prod, and checks what a user of
// the pull request would see.
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/internal/kubetest"
)

var (
	// botBin is the bot binary built once for the package.
	botBin string
	// staging and prod are shared by every test; each test works in its own
	// namespace.
	staging, prod *kubetest.Cluster
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "tugboat-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	botBin = filepath.Join(dir, "bot")
	build := exec.Command("go", "build", "-o", botBin, "../cmd/bot")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build the bot:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if staging, err = kubetest.New(ctx, kubetest.WithName("staging")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer staging.Close()
	if prod, err = kubetest.New(ctx, kubetest.WithName("prod")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer prod.Close()
	return m.Run()
}
