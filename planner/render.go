package planner

import (
	"context"
	"errors"
	"io"
	"io/fs"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tugboatops/tugboat/config"
)

// Object is one rendered manifest and where it came from.
type Object struct {
	Obj    *unstructured.Unstructured
	Source Location
}

// Renderer renders an environment's path in a child process, because krusty
// takes no context and a hostile repository can make it run long or allocate
// without bound. Exe and Args re-execute a binary whose entry point calls
// RunRenderChild (the bot's hidden `__render` subcommand; in tests, the test
// binary itself with TUGBOAT_RENDER_CHILD=1).
type Renderer struct {
	Exe    string
	Args   []string
	Env    []string // extra environment for the child, e.g. TUGBOAT_RENDER_CHILD=1
	Limits Limits
}

// Render renders env.Path of repo. Problems with the repository (invalid
// YAML, a URL resource, a limit hit) are returned as Problems; the error is
// for failures of the planner itself (the child could not be started).
func (r *Renderer) Render(ctx context.Context, repo fs.FS, env config.Environment) ([]Object, []Problem, error) {
	return nil, nil, errors.New("render: not implemented yet")
}

// RenderInProcess does the same work as Render without the child process.
// The child itself uses it; so do unit and fuzz tests. It must only be given
// trusted input or run inside the child, since it has no time or memory limit.
func RenderInProcess(repo fs.FS, envPath string, lim Limits) ([]Object, []Problem) {
	return nil, []Problem{{Message: "render: not implemented yet"}}
}

// RunRenderChild is the render child's main: it reads a request on stdin,
// renders, and writes the result on stdout.
func RunRenderChild(stdin io.Reader, stdout io.Writer) error {
	return errors.New("render child: not implemented yet")
}
