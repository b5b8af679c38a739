package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// buildBot builds the real bot binary from this checkout into dir: the
// sandbox runs exactly what would be deployed, over HTTP, not a test double.
func buildBot(ctx context.Context, root, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("build the bot: %w", err)
	}
	bin := filepath.Join(dir, "bot")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/bot")
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/bot: %w\n%s", err, out.String())
	}
	return bin, nil
}

// runBot runs a one-shot bot command (apply) and returns its output, which
// is part of the error when it fails.
func runBot(ctx context.Context, bin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("bot %s: %w\n%s", args[0], err, out.String())
	}
	return out.String(), nil
}

// server is the long-running `bot serve`.
type server struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // set before exited closes
}

// startServer starts `bot serve` with its log appended to logFile. The bot
// dies with the sandbox even if the sandbox is killed (Pdeathsig), so no
// orphan keeps the port.
func startServer(bin, config, logFile string, env []string) (*server, error) {
	logf, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("bot log: %w", err)
	}
	cmd := exec.Command(bin, "serve", "--config", config)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start bot serve: %w", err)
	}
	s := &server{cmd: cmd, exited: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		logf.Close()
		close(s.exited)
	}()
	return s, nil
}

// waitReady polls url (the bot's /readyz) until it answers 200, the bot
// exits, or timeout passes.
func (s *server) waitReady(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last string
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%s: %s", resp.Status, bytes.TrimSpace(body))
		} else {
			last = err.Error()
		}
		select {
		case <-s.exited:
			return fmt.Errorf("bot serve exited: %v", s.err)
		case <-ctx.Done():
			return fmt.Errorf("bot not ready after %s: %s", timeout, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// stop asks the bot to drain and exit (SIGTERM), then kills it after grace.
func (s *server) stop(grace time.Duration) error {
	pgid := -s.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(grace):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-s.exited
		return fmt.Errorf("bot serve did not stop within %s: killed", grace)
	}
	var exit *exec.ExitError
	if s.err != nil && !(errors.As(s.err, &exit) && exit.ExitCode() == 0) {
		return fmt.Errorf("bot serve: %w", s.err)
	}
	return nil
}
