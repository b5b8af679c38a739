package benchtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// buildBot builds the bot binary at most once per test process: every
// benchmark of a package that times the real process shares the one build
// (a build takes tens of seconds on a loaded machine). This is the only
// package-level state, and only test binaries hold it.
var buildBot = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "tugboat-bench-bot-")
	if err != nil {
		return "", fmt.Errorf("build bot: %w", err)
	}
	bin := filepath.Join(dir, "bot")
	// The import path, not a relative directory, so the build works from
	// any package's test directory inside the module.
	out, err := exec.Command("go", "build", "-o", bin, "github.com/tugboatops/tugboat/cmd/bot").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build cmd/bot: %v\n%s", err, out)
	}
	return bin, nil
})

// BotBinary returns the path of the real bot binary, building it on the
// first call of the test process.
func BotBinary() (string, error) { return buildBot() }
