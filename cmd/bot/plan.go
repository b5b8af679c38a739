package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/planner"
)

// planFlags are `bot plan`'s flags.
type planFlags struct {
	repo, base, config, env, output, repoName, headSHA string
	all, verbose                                       bool
}

// runPlan implements `bot plan`. Exit status: 0 no changes, 2 changes,
// 1 any problem (Terraform's -detailed-exitcode).
func runPlan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f planFlags
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.repo, "repo", "", "repository checkout to plan (its .tugboat.yaml names the environments)")
	fs.StringVar(&f.base, "base", "", "base branch checkout, to tell the PR's changes from drift")
	fs.StringVar(&f.config, "config", "", "server config file (clusters, digest_key_file)")
	fs.StringVar(&f.env, "env", "", "environment to plan")
	fs.BoolVar(&f.all, "all", false, "plan every environment")
	fs.StringVar(&f.output, "o", "markdown", "output format: markdown or json")
	fs.StringVar(&f.repoName, "repo-name", "", "owner/name of the repository as the bot knows it (selects its ApplySets, for deletes)")
	fs.StringVar(&f.headSHA, "sha", "", "commit being planned, shown in the output")
	fs.BoolVar(&f.verbose, "v", false, "log progress to stderr")
	if err := fs.Parse(args); err != nil {
		return 1
	}
	if err := f.check(); err != nil {
		fmt.Fprintf(stderr, "bot plan: %v\n", err)
		fs.Usage()
		return 1
	}
	plans, err := plan(ctx, f, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "bot plan: %v\n", err)
		return 1
	}
	if f.output == "json" {
		err = planner.WriteJSON(stdout, plans)
	} else {
		err = planner.WriteMarkdown(stdout, plans)
	}
	if err != nil {
		fmt.Fprintf(stderr, "bot plan: %v\n", err)
		return 1
	}
	return planner.ExitCode(plans)
}

func (f planFlags) check() error {
	switch {
	case f.repo == "":
		return errors.New("--repo is required")
	case f.config == "":
		return errors.New("--config is required")
	case f.all == (f.env != ""):
		return errors.New("give exactly one of --env NAME and --all")
	case f.output != "markdown" && f.output != "json":
		return fmt.Errorf("-o %q: want markdown or json", f.output)
	}
	return nil
}

func plan(ctx context.Context, f planFlags, stderr io.Writer) ([]*planner.Plan, error) {
	level := zerolog.WarnLevel
	if f.verbose {
		level = zerolog.InfoLevel
	}
	log := zerolog.New(zerolog.ConsoleWriter{Out: stderr, TimeFormat: time.TimeOnly}).Level(level).With().Timestamp().Logger()

	data, err := os.ReadFile(filepath.Join(f.repo, config.RepoFile))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", config.RepoFile, err)
	}
	repoCfg, err := config.ParseRepo(data, config.RepoFile)
	if err != nil {
		return nil, err
	}
	envs := repoCfg.Environments
	if !f.all {
		env, ok := repoCfg.Env(f.env)
		if !ok {
			return nil, fmt.Errorf("environment %q is not in %s", f.env, config.RepoFile)
		}
		envs = []config.Environment{env}
	}
	server, err := config.LoadServer(f.config)
	if err != nil {
		return nil, err
	}
	key, err := config.LoadDigestKey(server.DigestKeyFile)
	if err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable for the render child: %w", err)
	}
	p := &planner.Planner{
		Clusters:  kube.NewRegistry(clusterSpecs(server)),
		DigestKey: key,
		Renderer:  &planner.Renderer{Exe: exe, Args: []string{renderSubcommand}},
		Log:       log,
	}
	in := planner.Input{Repo: os.DirFS(f.repo), RepoName: f.repoName, HeadSHA: f.headSHA}
	if f.base != "" {
		in.BaseRepo = os.DirFS(f.base)
	}
	var plans []*planner.Plan
	for _, env := range envs {
		in.Env = env
		pl, err := p.Plan(ctx, in)
		if err != nil {
			return nil, err
		}
		plans = append(plans, pl)
	}
	return plans, nil
}

// clusterSpecs converts the server config's cluster registry.
func clusterSpecs(s *config.Server) map[string]kube.ClusterSpec {
	specs := make(map[string]kube.ClusterSpec, len(s.Clusters))
	for name, c := range s.Clusters {
		specs[name] = kube.ClusterSpec{Kubeconfig: c.Kubeconfig, Context: c.Context, InCluster: c.InCluster}
	}
	return specs
}
