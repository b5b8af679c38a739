package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/planner"
)

// localFlags are what `bot plan` and `bot apply` share: a checkout, the
// server config, which environments, and which repository it is.
type localFlags struct {
	repo, base, config, env, repoName, commit string
	all, verbose                              bool

	verb string // "plan" or "apply", for messages
	// needRepoName: the command fails without a repository name (apply
	// always writes into the repository's ApplySet).
	needRepoName bool
}

// register adds the shared flags; verb is "plan" or "apply".
func (f *localFlags) register(fs *flag.FlagSet, verb, allHelp string) {
	f.verb = verb
	fs.StringVar(&f.repo, "repo", "", "repository checkout to "+verb+" (its .tugboat.yaml names the environments)")
	fs.StringVar(&f.base, "base", "", "base branch checkout, to tell the PR's changes from drift")
	fs.StringVar(&f.config, "config", "", "server config file (clusters, digest_key_file)")
	fs.StringVar(&f.env, "env", "", "environment to "+verb)
	fs.BoolVar(&f.all, "all", false, allHelp)
	fs.StringVar(&f.repoName, "repo-name", "", "owner/name of the repository as the bot knows it (selects its ApplySet: what it owns and prunes); default: from the checkout's git remotes, upstream before origin")
	fs.StringVar(&f.commit, "sha", "", "commit being planned or applied, shown in the output and recorded on the cluster")
	fs.BoolVar(&f.verbose, "v", false, "log progress to stderr")
}

// local is what a local command needs: the selected environments, a
// planner wired to the server config's clusters, and the logger (planner
// and applier log through the context: see envContext).
type local struct {
	envs     []config.Environment
	clusters *kube.Registry
	planner  *planner.Planner
	input    planner.Input
	log      zerolog.Logger
}

// envContext is ctx with the command's logger, naming env and its cluster.
func (l *local) envContext(ctx context.Context, env config.Environment) context.Context {
	return l.log.With().Str("env", env.Name).Str("cluster", env.Cluster).Logger().WithContext(ctx)
}

// setupLocal reads the checkout's .tugboat.yaml and the server config.
// The repository's name comes from --repo-name or else the checkout's git
// remotes (see inferRepoName), and the choice is printed to stderr. Without
// one, apply fails and so does the plan of an environment that prunes: without
// the repository's ApplySet it would silently show no deletes.
func setupLocal(ctx context.Context, f localFlags, stderr io.Writer) (*local, error) {
	var inferErr error
	if f.repoName == "" {
		var r remoteRepo
		if r, inferErr = inferRepoName(ctx, f.repo); inferErr == nil {
			f.repoName = r.Name
			fmt.Fprintf(stderr, "bot %s: repository %s (from git remote %q; --repo-name overrides)\n", f.verb, r.Name, r.Remote)
		}
	}
	if f.repoName == "" && f.needRepoName {
		return nil, fmt.Errorf("--repo-name owner/name is required: it names the ApplySet that owns (and prunes) the objects, and the checkout's git remotes name none: %v", inferErr)
	}
	level := zerolog.WarnLevel
	if f.verbose {
		level = zerolog.InfoLevel
	}
	logc := zerolog.New(zerolog.ConsoleWriter{Out: stderr, TimeFormat: time.TimeOnly}).Level(level).With().Timestamp()
	if f.repoName != "" {
		logc = logc.Str("repo", f.repoName)
	}
	log := logc.Logger()

	data, err := os.ReadFile(filepath.Join(f.repo, config.RepoFile))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", config.RepoFile, err)
	}
	repoCfg, err := config.ParseRepoContext(ctx, data, config.RepoFile)
	if err != nil {
		return nil, err
	}
	err = repoCfg.ReadSharedPolicies(ctx, func(_ context.Context, path string) ([]byte, bool, error) {
		data, err := os.ReadFile(filepath.Join(f.repo, filepath.FromSlash(path)))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, false, nil
		}
		return data, err == nil, err
	})
	if err != nil {
		return nil, err
	}
	envs := config.Ordered(repoCfg.Environments)
	if !f.all {
		env, ok := repoCfg.Env(f.env)
		if !ok {
			return nil, fmt.Errorf("environment %q is not in %s", f.env, config.RepoFile)
		}
		envs = []config.Environment{env}
	}
	if f.repoName == "" {
		for _, env := range envs {
			if env.Prune {
				return nil, fmt.Errorf("environment %s prunes: --repo-name owner/name is required to find what tugboat applied earlier (the repository's ApplySet), and the checkout's git remotes name none: %v", env.Name, inferErr)
			}
		}
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
	reg := kube.NewRegistry(clusterSpecs(server))
	// `bot plan` is a short-lived process: keep discovery on disk as
	// kubectl does, rather than rediscover every cluster on every run.
	// Not `bot apply`: it creates CRDs and must find their kinds right
	// after, which the disk-cached mapper did not (the sandbox's first
	// deploy failed on its FeatureFlags).
	if dir, err := os.UserCacheDir(); err == nil && f.verb == "plan" {
		reg.CacheDiscoveryIn(filepath.Join(dir, "tugboat"))
	}
	in := planner.Input{Repo: os.DirFS(f.repo), RepoName: f.repoName, Commit: f.commit}
	if f.base != "" {
		in.BaseRepo = os.DirFS(f.base)
	}
	return &local{
		envs:     envs,
		clusters: reg,
		planner: &planner.Planner{
			Clusters:  reg,
			DigestKey: key,
			Renderer:  &planner.Renderer{Exe: exe, Args: []string{renderSubcommand}, Clusters: reg},
		},
		input: in,
		log:   log,
	}, nil
}

// clusterSpecs converts the server config's cluster registry.
func clusterSpecs(s *config.Server) map[string]kube.ClusterSpec {
	specs := make(map[string]kube.ClusterSpec, len(s.Clusters))
	for name, c := range s.Clusters {
		specs[name] = kube.ClusterSpec{Kubeconfig: c.Kubeconfig, Context: c.Context, InCluster: c.InCluster}
	}
	return specs
}
