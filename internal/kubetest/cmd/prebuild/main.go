// Command prebuild builds and caches the kubetest control plane, so that
// `make test` pays the cold build once, before the test binaries start.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/tugboatops/tugboat/internal/kubetest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	bin, err := kubetest.EnsureBinary(ctx, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "kubetest: control plane ready: %s\n", bin)
}
