package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tugboatops/tugboat/internal/githubtest"
)

// TestScriptFailsOnContractFailures: a request the emulator finds not to
// match GitHub's description fails --script (and TestSandbox, which runs
// the same script and checks again at its end) before any step is taken
// for a pass — even when the bot retried its way past the emulator's 500.
func TestScriptFailsOnContractFailures(t *testing.T) {
	gh, err := githubtest.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gh.Close)
	s := &Sandbox{opts: Options{Dir: t.TempDir()}, p: newProgress(io.Discard), GitHub: gh}
	if err := s.contractFailures(); err != nil {
		t.Fatalf("a fresh emulator reports %v", err)
	}

	// An operation GitHub does not have, asked with a valid token.
	req, _ := http.NewRequest(http.MethodGet, gh.URL()+"/repos/acme/shop/no-such-endpoint", nil)
	req.Header.Set("Authorization", "token "+gh.UserToken("alice"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("the emulator answered %d to a request GitHub does not describe, want 500", resp.StatusCode)
	}

	err = s.contractFailures()
	if err == nil || !strings.Contains(err.Error(), "1 GitHub contract failure(s)") || !strings.Contains(err.Error(), "/repos/acme/shop/no-such-endpoint") {
		t.Fatalf("contractFailures = %v, want the failure named", err)
	}
	err = s.runScript(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), "starting up: 1 GitHub contract failure(s)") {
		t.Fatalf("runScript = %v, want it to fail on the contract failure before its first step", err)
	}
}
