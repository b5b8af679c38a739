package planner

import (
	"os"
	"testing"

	"github.com/tugboatops/tugboat/internal/kubetest"
)

// cluster is the control plane shared by the package's tests; tests that
// need a cluster of their own use kubetest.Start.
var cluster *kubetest.Cluster

// TestMain lets the test binary serve as the render child (Renderer tests
// re-execute it with TUGBOAT_RENDER_CHILD=1); otherwise it runs the tests
// against one shared control plane.
func TestMain(m *testing.M) {
	if os.Getenv("TUGBOAT_RENDER_CHILD") == "1" {
		if err := RunRenderChild(os.Stdin, os.Stdout); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	kubetest.Main(m, &cluster)
}
