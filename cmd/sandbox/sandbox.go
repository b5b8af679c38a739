package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/internal/githubtest"
	"github.com/tugboatops/tugboat/internal/kubetest"
)

// Options configure a sandbox.
type Options struct {
	// Root is the tugboat checkout: examples/ and cmd/bot come from it.
	Root string
	// Dir holds the sandbox's state (configs, logs, git storage, the PR
	// branch's working copy); it is emptied at start.
	Dir string
	// BinDir keeps the bot binary between runs, so an unchanged bot is not
	// linked again (go build skips an up-to-date output); "" means Dir.
	BinDir string
	// GitHubAddr and BotAddr are host:port to listen on; "" picks free ports.
	GitHubAddr, BotAddr string
	// Out receives progress lines.
	Out io.Writer
}

// Sandbox is tugboat running end to end on this machine: two clusters with
// main deployed, the GitHub emulator with the examples repository and an
// open pull request, and the real bot between them.
type Sandbox struct {
	opts     Options
	p        *progress
	GitHub   *githubtest.Server
	Clusters map[string]*kubetest.Cluster
	bot      *server
	control  *controlServer
	ghLog    *os.File

	BotURL string
	// AdminURL is the bot's admin listener: /metrics, /clusters.
	AdminURL string
	BotLog   string
	PR       int
	MainSHA  string
	// WorkDir is a copy of the pull request's branch: edit it, then push.
	WorkDir string
	// Started is how long Start took.
	Started time.Duration

	pushMu sync.Mutex
	pushed map[string]string // the PR branch's files as last pushed
}

// PRURL is the emulator's page of the pull request.
func (s *Sandbox) PRURL() string {
	return fmt.Sprintf("%s/%s/pull/%d", s.GitHub.URL(), repoName, s.PR)
}

// Start brings everything up. On error, whatever was started is stopped.
func Start(ctx context.Context, opts Options) (_ *Sandbox, err error) {
	s := &Sandbox{opts: opts, p: newProgress(opts.Out)}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	// The state directory is wiped: refuse if a sandbox still lives there.
	if conn, err := net.Dial("unix", filepath.Join(opts.Dir, controlSocket)); err == nil {
		conn.Close()
		return nil, fmt.Errorf("a sandbox is already running with state in %s: stop it first (Ctrl-C), or give --dir", opts.Dir)
	}
	if err := os.RemoveAll(opts.Dir); err != nil {
		return nil, fmt.Errorf("clear %s: %w", opts.Dir, err)
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, err
	}
	mainFiles, err := readTree(filepath.Join(opts.Root, "examples"))
	if err != nil {
		return nil, err
	}
	prFiles, err := prChange.apply(mainFiles)
	if err != nil {
		return nil, err
	}

	botBin, err := s.startServices(ctx)
	if err != nil {
		return nil, err
	}
	botPort, err := pickPort(opts.BotAddr)
	if err != nil {
		return nil, err
	}
	cfg, err := s.writeServerConfig(botPort)
	if err != nil {
		return nil, err
	}
	s.MainSHA, err = createRepo(s.GitHub, mainFiles)
	if err != nil {
		return nil, err
	}
	if err := s.deployMain(ctx, botBin, cfg); err != nil {
		return nil, err
	}
	if err := s.startBot(ctx, botBin, cfg, botPort); err != nil {
		return nil, err
	}
	if err := emulator("install the app", func() { s.GitHub.CreateInstallation(org, repoName) }); err != nil {
		return nil, err
	}
	s.p.printf("GitHub App installed on %s", repoName)
	if s.PR, err = openPR(s.GitHub, mainFiles, prFiles, prChange); err != nil {
		return nil, err
	}
	s.pushed = prFiles
	s.WorkDir = filepath.Join(opts.Dir, "pr-branch")
	if err := writeTree(s.WorkDir, prFiles); err != nil {
		return nil, err
	}
	if s.control, err = startControl(filepath.Join(opts.Dir, controlSocket), s); err != nil {
		return nil, err
	}
	s.p.printf("pull request #%d opened by bob: %s", s.PR, prChange.Message)
	s.Started = s.p.elapsed()
	return s, nil
}

// startServices starts the clusters, and meanwhile builds the bot and
// starts the emulator (which loads GitHub's 13 MB API description): the
// clusters take longest. It returns the bot binary.
func (s *Sandbox) startServices(ctx context.Context) (string, error) {
	var (
		wg            sync.WaitGroup
		botBin        string
		botErr, ghErr error
	)
	wg.Add(2)
	go func() {
		defer wg.Done()
		t := time.Now()
		s.p.printf("building the bot (go build ./cmd/bot)")
		if botBin, botErr = buildBot(ctx, s.opts.Root, or(s.opts.BinDir, s.opts.Dir)); botErr == nil {
			s.p.printf("bot built in %s", since(t))
		}
	}()
	go func() {
		defer wg.Done()
		s.GitHub, ghErr = s.startGitHub()
	}()
	s.p.printf("starting clusters %v (the first run builds the control plane: minutes, once)", clusterNames)
	var err error
	s.Clusters, err = startClusters(ctx, s.p)
	wg.Wait()
	return botBin, errors.Join(err, botErr, ghErr)
}

func (s *Sandbox) startGitHub() (*githubtest.Server, error) {
	t := time.Now()
	logf, err := os.Create(filepath.Join(s.opts.Dir, "github.log"))
	if err != nil {
		return nil, err
	}
	s.ghLog = logf
	var mu sync.Mutex
	gh, err := githubtest.NewServer(
		githubtest.WithAddr(orLocal(s.opts.GitHubAddr)),
		githubtest.WithDir(filepath.Join(s.opts.Dir, "git")),
		githubtest.WithLogf(func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(logf, time.Now().Format("15:04:05.000 ")+format+"\n", args...)
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("GitHub emulator: %w (another address: --github-addr)", err)
	}
	s.p.printf("GitHub emulator up at %s in %s", gh.URL(), since(t))
	return gh, nil
}

// deployMain applies main to every environment with `bot apply`, the
// command a platform team uses to rebuild a cluster from Git, so the pull
// request's plan is a diff against a running system.
func (s *Sandbox) deployMain(ctx context.Context, bin, cfg string) error {
	t := time.Now()
	_, err := runBot(ctx, bin, "apply", "--repo", filepath.Join(s.opts.Root, "examples"), "--config", cfg,
		"--all", "--yes", "--repo-name", repoName, "--sha", s.MainSHA)
	if err != nil {
		return fmt.Errorf("deploy main: %w", err)
	}
	s.p.printf("main (%s) deployed to %v and converged in %s", comments.ShortSHA(s.MainSHA), clusterNames, since(t))
	return nil
}

func (s *Sandbox) startBot(ctx context.Context, bin, cfg string, port int) error {
	t := time.Now()
	s.BotURL = "http://127.0.0.1:" + strconv.Itoa(port)
	s.BotLog = filepath.Join(s.opts.Dir, "bot.log")
	var err error
	if s.bot, err = startServer(bin, cfg, s.BotLog, nil); err != nil {
		return err
	}
	if err := s.bot.waitReady(ctx, s.BotURL+"/readyz", 60*time.Second); err != nil {
		return fmt.Errorf("%w (log: %s)", err, s.BotLog)
	}
	s.GitHub.SetWebhook(s.BotURL+webhookPath, "")
	s.p.printf("bot serving at %s in %s; webhooks go to %s", s.BotURL, since(t), webhookPath)
	return nil
}

// Close stops everything, the bot first so it drains before its clusters
// and GitHub go away.
func (s *Sandbox) Close() error {
	var errs []error
	if s.control != nil {
		s.control.close()
	}
	if s.bot != nil {
		errs = append(errs, s.bot.stop(15*time.Second))
	}
	if s.GitHub != nil {
		s.GitHub.Close()
	}
	if s.ghLog != nil {
		s.ghLog.Close()
	}
	closeClusters(s.Clusters)
	return errors.Join(errs...)
}

// pickPort returns addr's port, or a free one when addr is "" or port 0.
func pickPort(addr string) (int, error) {
	l, err := net.Listen("tcp", orLocal(addr))
	if err != nil {
		return 0, fmt.Errorf("bot: %w (another address: --bot-addr)", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func orLocal(addr string) string {
	if addr == "" {
		return "127.0.0.1:0"
	}
	return addr
}

func randomKey() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}

func since(t time.Time) time.Duration { return time.Since(t).Round(100 * time.Millisecond) }
