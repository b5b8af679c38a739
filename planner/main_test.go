package planner

import (
	"os"
	"testing"
)

// TestMain lets the test binary serve as the render child: Renderer tests
// re-execute it with TUGBOAT_RENDER_CHILD=1.
func TestMain(m *testing.M) {
	if os.Getenv("TUGBOAT_RENDER_CHILD") == "1" {
		if err := RunRenderChild(os.Stdin, os.Stdout); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
