package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/tugboatops/tugboat/applier"
	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/ops"
	"github.com/tugboatops/tugboat/planner"
)

// The local release tools: `bot rollback` (break glass from a laptop),
// `bot history` (history.go) and `bot promote` (the promotion's edit, into the
// checkout). They read and write the same ApplySet records and pins as
// the GitHub App.

// gitTree reads the tree of commit in the checkout at repo, through `git
// archive` (the commit need not be checked out).
func gitTree(ctx context.Context, repo, commit string) (fs.FS, string, error) {
	full, err := gitOut(ctx, repo, "rev-parse", "--verify", "--quiet", commit+"^{commit}")
	if err != nil {
		return nil, "", fmt.Errorf("commit %s is not in the checkout %s (git fetch it first): %w", commit, repo, err)
	}
	sha := strings.TrimSpace(full)
	tgz, err := gitOut(ctx, repo, "archive", "--format=tar.gz", "--prefix=tree/", sha)
	if err != nil {
		return nil, "", err
	}
	files, _, err := gh.Extract(strings.NewReader(tgz), gh.TarballLimits{})
	if err != nil {
		return nil, "", fmt.Errorf("read commit %s: %w", sha, err)
	}
	return planner.NewMemFS(files), sha, nil
}

func gitOut(ctx context.Context, repo string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", repo}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// rollbackFlags are `bot rollback`'s flags.
type rollbackFlags struct {
	localFlags
	to, by              string
	yes, allowDangerous bool
}

// runRollback implements `bot rollback --env ENV --to SHA`: the break-glass
// rollback done locally (the bot is down, or GitHub is): SHA's plan is
// shown and applied, then ENV is pinned there, so the bot's merges,
// `/apply`, heal and resync leave it alone until `/unpin` or
// `bot rollback --unpin`.
func runRollback(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f rollbackFlags
	fset := flag.NewFlagSet("rollback", flag.ContinueOnError)
	fset.SetOutput(stderr)
	f.register(fset, "roll back", "")
	f.needRepoName = true
	fset.StringVar(&f.to, "to", "", "commit to roll back to (in the checkout; git fetch it first)")
	fset.StringVar(&f.by, "by", os.Getenv("USER"), "who pins the environment, as the pin shows it")
	fset.BoolVar(&f.yes, "yes", false, "apply the plan just computed")
	fset.BoolVar(&f.allowDangerous, "allow-dangerous", false, "allow changes the plan marks dangerous")
	unpin := fset.Bool("unpin", false, "unpin the environment instead (no apply)")
	if err := fset.Parse(args); err != nil {
		return 1
	}
	var err error
	switch {
	case f.repo == "" || f.config == "" || f.env == "" || f.all:
		err = errors.New("--repo, --config and --env are required (one environment)")
	case !*unpin && (f.to == "" || !f.yes):
		err = errors.New("--to SHA and --yes are required")
	case !*unpin && f.by == "":
		err = errors.New("--by NAME is required: the pin says who pinned it")
	}
	if err != nil {
		fmt.Fprintf(stderr, "bot rollback: %v\n", err)
		fset.Usage()
		return 1
	}
	l, err := setupLocal(ctx, f.localFlags, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "bot rollback: %v\n", err)
		return 1
	}
	env := l.envs[0]
	c, err := l.clusters.Cluster(env.Cluster)
	if err != nil {
		fmt.Fprintf(stderr, "bot rollback: %v\n", err)
		return 1
	}
	set := kube.ApplySet{Repo: l.input.RepoName, Env: env.Name}
	if *unpin {
		if err := kube.Unpin(ctx, c, set); err != nil {
			fmt.Fprintf(stderr, "bot rollback: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s: unpinned\n", env.Name)
		return 0
	}
	tree, sha, err := gitTree(ctx, f.repo, f.to)
	if err != nil {
		fmt.Fprintf(stderr, "bot rollback: %v\n", err)
		return 1
	}
	in := l.input
	in.Env, in.Repo, in.Commit = env, tree, sha
	ctx = l.envContext(ctx, env)
	// Planned and applied under the apply mutex, like every write.
	ctx, release, err := l.holdEnv(ctx, env, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "bot rollback: %v\n", err)
		return 1
	}
	defer release()
	plan, err := l.planner.Plan(ctx, in)
	if err != nil {
		fmt.Fprintf(stderr, "bot rollback: plan %s at %s: %v\n", env.Name, comments.ShortSHA(sha), err)
		return 1
	}
	_, _ = io.WriteString(stdout, comments.RenderLocalPlans([]*planner.Plan{plan}))
	fmt.Fprintf(stdout, "\n## Rolling %s back to %s (plan %s)\n\n", env.Name, comments.ShortSHA(sha), plan.Digest)
	a := &applier.Applier{Planner: l.planner, Clusters: l.clusters}
	var mu sync.Mutex
	res, err := a.Apply(ctx, plan.Digest, in, applier.Options{
		AllowDangerous: f.allowDangerous, Trigger: kube.TriggerRollback, Head: sha,
		Progress: func(e applier.ProgressEvent) { mu.Lock(); defer mu.Unlock(); printProgress(stdout, e) },
	})
	var changed *applier.PlanChangedError
	if errors.As(err, &changed) || res == nil {
		fmt.Fprintf(stdout, "%s: nothing applied: %v\n", env.Name, err)
		return 1
	}
	fmt.Fprintln(stdout)
	applier.WriteReport(stdout, res)
	// Pinned whatever the outcome once something was written: the bot
	// must not deploy the broken commit again over the rollback.
	if perr := kube.SetPin(ctx, c, set, kube.Pin{Commit: sha, By: f.by, Reason: "bot rollback"}); perr != nil {
		fmt.Fprintf(stderr, "bot rollback: %v\n", perr)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %s; merges, /apply, heal and resync leave it alone until /unpin %s (or bot rollback --unpin)\n",
		env.Name, comments.PinText(comments.Pin{Env: env.Name, Commit: sha, By: f.by}), env.Name)
	if err != nil {
		fmt.Fprintf(stdout, "%s: %v\n", env.Name, err)
		return 1
	}
	if !res.Converged() {
		return 1
	}
	return 0
}

// runPromote implements `bot promote --from A --to B`: B's files in the
// checkout get what A runs now (A's deployed commit, from its ApplySet
// record), as /promote would write them, for the user to commit.
func runPromote(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f localFlags
	var from, to string
	fset := flag.NewFlagSet("promote", flag.ContinueOnError)
	fset.SetOutput(stderr)
	f.register(fset, "promote", "")
	f.needRepoName = true
	fset.StringVar(&from, "from", "", "environment promoted from (its deployed commit must be in the checkout)")
	fset.StringVar(&to, "to", "", "environment promoted to (its files in the checkout are edited)")
	if err := fset.Parse(args); err != nil {
		return 1
	}
	if f.repo == "" || f.config == "" || from == "" || to == "" {
		fmt.Fprintln(stderr, "bot promote: --repo, --config, --from and --to are required")
		fset.Usage()
		return 1
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "bot promote: "+format+"\n", a...)
		return 1
	}
	f.env, f.all = to, false
	l, err := setupLocal(ctx, f, stderr)
	if err != nil {
		return fail("%v", err)
	}
	toEnv := l.envs[0]
	data, err := os.ReadFile(filepath.Join(f.repo, config.RepoFile))
	if err != nil {
		return fail("%v", err)
	}
	cfg, err := config.ParseRepoContext(ctx, data, config.RepoFile)
	if err != nil {
		return fail("%v", err)
	}
	fromEnv, ok := cfg.Env(from)
	switch {
	case !ok:
		return fail("unknown environment %q", from)
	case from == to:
		return fail("%s cannot be promoted to itself", to)
	case toEnv.Promote == nil:
		return fail("%s has no promote: in %s", to, config.RepoFile)
	case toEnv.Promote.From != from:
		return fail("%s is promoted from %s, not %s", to, toEnv.Promote.From, from)
	}
	c, err := l.clusters.Cluster(fromEnv.Cluster)
	if err != nil {
		return fail("%v", err)
	}
	inv, err := kube.ReadInventory(ctx, c, kube.ApplySet{Repo: l.input.RepoName, Env: from})
	if err != nil {
		return fail("%v", err)
	}
	rec := kube.RecordFrom(inv)
	switch {
	case rec.Commit == "":
		return fail("%s has never been deployed", from)
	case rec.Outcome != kube.OutcomeConverged:
		return fail("%s's last deploy (%s) is %s, not converged", from, comments.ShortSHA(rec.Commit), rec.Outcome)
	case rec.Trigger == kube.TriggerApply && rec.PR > 0:
		return fail("%s runs #%d, applied before merge: promote once it merges and deploys", from, rec.PR)
	}
	tree, _, err := gitTree(ctx, f.repo, rec.Commit)
	if err != nil {
		return fail("%v", err)
	}
	readFS := func(fsys fs.FS) ops.FileReader {
		return func(p string) ([]byte, bool, error) {
			b, err := fs.ReadFile(fsys, p)
			if errors.Is(err, fs.ErrNotExist) {
				return nil, false, nil
			}
			return b, err == nil, err
		}
	}
	files, p, why, err := ops.PromotionFiles(fromEnv, toEnv, rec.Commit, readFS(tree), readFS(os.DirFS(f.repo)))
	if err != nil {
		return fail("%v", err)
	}
	if why != nil {
		return fail("%s", why.Text())
	}
	if len(files) == 0 {
		fmt.Fprintf(stdout, "nothing to promote: %s already has what %s runs (%s)\n", to, from, comments.ShortSHA(rec.Commit))
		return 0
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, path := range paths {
		if err := os.WriteFile(filepath.Join(f.repo, filepath.FromSlash(path)), files[path], 0o644); err != nil {
			return fail("%v", err)
		}
		fmt.Fprintf(stdout, "wrote %s\n", path)
	}
	p.From, p.To, p.Commit, p.PR, p.Deployed = from, to, rec.Commit, rec.PR, rec.Time
	fmt.Fprintf(stdout, "\n%s\n\n%s", comments.PromotionTitle(p), comments.PromotionBody(p))
	return 0
}
