// Command localcluster starts one kubetest control plane, writes an admin
// kubeconfig, prints "ready" and runs until interrupted:
//
//	go run ./internal/kubetest/cmd/localcluster -kubeconfig FILE [-name N]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/tugboatops/tugboat/internal/kubetest"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "write the admin kubeconfig here (required)")
	name := flag.String("name", "local", "cluster name (kubeconfig context)")
	flag.Parse()
	if *kubeconfig == "" {
		fmt.Fprintln(os.Stderr, "localcluster: -kubeconfig FILE is required")
		os.Exit(2)
	}
	if err := run(*kubeconfig, *name); err != nil {
		fmt.Fprintln(os.Stderr, "localcluster:", err)
		os.Exit(1)
	}
}

func run(kubeconfig, name string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	c, err := kubetest.New(ctx, kubetest.WithName(name), kubetest.WithProgress(func(f string, a ...any) {
		fmt.Fprintf(os.Stderr, "localcluster: "+f+"\n", a...)
	}))
	if err != nil {
		return err
	}
	defer c.Close()
	data, err := os.ReadFile(c.Kubeconfig())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(kubeconfig), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(kubeconfig, data, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "localcluster: %s up in %s; logs in %s\n", name, time.Since(start).Round(100*time.Millisecond), c.Dir())
	fmt.Fprintf(os.Stderr, "localcluster: export KUBECONFIG=%s\n", kubeconfig)
	fmt.Println("ready")
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "localcluster: stopping")
	return nil
}
