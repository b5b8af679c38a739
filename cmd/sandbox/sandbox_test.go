package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSandbox brings the whole sandbox up once — two control planes, the
// emulator, the real bot — and checks what a person would see: the PR
// page in a real browser, the --script walk-through (plan, approve, apply,
// merge), then the merged PR's page in the browser again. Any request or
// response the emulator found GitHub would not accept fails it.
func TestSandbox(t *testing.T) {
	chromium := findChromium(t)
	root, err := findModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	sb, err := Start(ctx, Options{Root: root, Dir: filepath.Join(t.TempDir(), "sandbox"), Out: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// However far the test got: the script checks after each of its
		// steps, this covers start-up and the browser checks too.
		if err := sb.contractFailures(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			if log, err := os.ReadFile(sb.BotLog); err == nil {
				t.Logf("bot log:\n%s", tail(string(log), 8000))
			}
		}
		if err := sb.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	t.Logf("sandbox up in %s", sb.Started)

	if _, err := sb.waitForPlan(ctx, planOfPR); err != nil {
		t.Fatal(err)
	}
	t.Run("browser", func(t *testing.T) { checkPageInBrowser(t, chromium, sb) })
	if !t.Run("script", func(t *testing.T) {
		if err := sb.runScript(ctx); err != nil {
			t.Fatal(err)
		}
	}) {
		return
	}
	t.Run("browser after merge", func(t *testing.T) { checkAppliedPageInBrowser(t, chromium, sb) })
}

// testWriter sends the sandbox's progress to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
