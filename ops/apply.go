package ops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/applier"
	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/planner"
)

// Applier applies a shown plan; *applier.Applier is the real one.
type Applier interface {
	Apply(ctx context.Context, shown string, in planner.Input, opts applier.Options) (*applier.Result, error)
	// Plan plans in as Apply would, for a caller holding the apply mutex
	// that hands the plan to Apply (applier.Options.Planned).
	Plan(ctx context.Context, in planner.Input) (*applier.Planned, error)
}

// ApplyRequest asks to apply a pull request's shown plans: a `/apply`
// comment or a check run's Apply button.
type ApplyRequest struct {
	PR
	// Actor is who asked: the commenter, or whoever pressed the button.
	Actor string
	// Envs are the environments named; nil means every on-comment
	// environment whose plan has changes.
	Envs           []string
	AllowDangerous bool
	// Trigger is comments.TriggerComment or comments.TriggerButton.
	Trigger comments.Trigger
	// ButtonHead is the head commit of the check run whose Apply button was
	// pressed ("" for a comment): a button of an older head is refused.
	ButtonHead string
	// Detach, when set, hands the apply to the bot's apply pool while later
	// events of the pull request wait for it (queue.Detach); the returned
	// func is called when the apply ends. Nil runs the apply inline.
	Detach func() func()
}

// ApplyPR carries out an apply request: authorize → requirements → lock →
// (on the apply pool) apply mutex → re-plan and compare digests → apply →
// wait → report. Anything unmet stops it before any write, named in one
// reply; a lock this attempt took is released again when it is refused.
func (o *Ops) ApplyPR(ctx context.Context, req ApplyRequest) error {
	log := zerolog.Ctx(ctx).With().Str("actor", req.Actor).Str("trigger", string(req.Trigger)).Logger()
	ctx = log.WithContext(ctx)
	a, refusal, err := o.prepareApply(ctx, req)
	if err != nil {
		return o.reportPermission(ctx, req.PR, err)
	}
	if refusal != "" {
		log.Info().Msg("apply refused")
		return o.Reply(ctx, req.PR, refusal)
	}
	if a.revert {
		return o.revertDangerous(ctx, req, a.pr)
	}
	if a.heldBack {
		return o.deployHeldBack(ctx, req, a.pr)
	}
	if len(a.envs) == 0 {
		return nil
	}
	if err := a.lock(ctx); err != nil {
		return err
	}
	if a.refused != "" {
		return o.Reply(ctx, req.PR, a.refused)
	}
	o.runDetached(ctx, req.Detach, a.run)
	return nil
}

// applyAttempt is the state of one ApplyPR, from its checks to its
// reports.
type applyAttempt struct {
	o   *Ops
	req ApplyRequest
	pr  *gh.PullRequest
	cfg *config.RepoConfig
	// envs are the environments to apply, in `after` order, each with the
	// digest of the plan shown for it.
	envs []*envApply
	// refused is set by lock when another pull request holds a lock.
	refused string
	// revert is set for `/apply --allow-dangerous` on a closed pull request.
	revert bool
	// heldBack is set for `/apply env` on a merged pull request.
	heldBack bool
}

// envApply is one environment of an attempt.
type envApply struct {
	env    config.Environment
	shown  string // digest of the plan shown on the head's latest run
	runURL string
	// tookLock is true when this attempt took the environment's lock (not
	// when the PR held it already): a refused attempt gives it back.
	tookLock bool
}

// prepareApply runs every check that needs no lock: the pull request's
// state, the configuration, which environments, who asks, the
// requirements, whether the plans were shown. It returns the refusal text
// when anything is unmet.
func (o *Ops) prepareApply(ctx context.Context, req ApplyRequest) (*applyAttempt, string, error) {
	c, repo := req.Client, req.Repo
	// What needs only the request is read beside the pull request: each
	// round trip to GitHub is on the way from /apply to the apply. The
	// results are used in the order the checks are made, as if read then.
	var (
		wg              sync.WaitGroup
		cfg             *config.RepoConfig
		why             comments.Reason
		cfgErr, permErr error
		actorPermission string
	)
	wg.Add(2)
	go func() { defer wg.Done(); cfg, why, cfgErr = o.trustedConfig(ctx, req.PR) }()
	go func() { defer wg.Done(); actorPermission, permErr = c.Permission(ctx, repo, req.Actor) }()
	pr, err := c.PullRequest(ctx, repo, req.Number, o.opts.Mergeable)
	wg.Wait()
	if err != nil {
		return nil, "", err
	}
	a := &applyAttempt{o: o, req: req, pr: pr}
	switch {
	case pr.State != "open" && !pr.Merged && req.AllowDangerous:
		// `/apply --allow-dangerous` on a PR closed without merging: the
		// revert may now make the dangerous deletes it left.
		a.revert = true
		return a, "", nil
	case pr.Merged && len(req.Envs) > 0 && req.ButtonHead == "":
		// `/apply env` on a merged PR: deploys the environments its merge
		// held back for unmet requirements.
		a.heldBack = true
		return a, "", nil
	case pr.State != "open":
		return nil, comments.ApplyRefusedReply(req.Actor, []comments.Refusal{{Reasons: []comments.Reason{closedReason(pr)}}}), nil
	case req.ButtonHead != "" && req.ButtonHead != pr.HeadSHA:
		return nil, comments.ApplyRefusedReply(req.Actor, []comments.Refusal{{Reasons: []comments.Reason{comments.ReasonOlderHead(req.ButtonHead, pr.HeadSHA)}}}), nil
	}
	if cfgErr != nil {
		return nil, "", cfgErr
	}
	if cfg == nil {
		return nil, comments.ApplyRefusedReply(req.Actor, []comments.Refusal{{Reasons: []comments.Reason{why}}}), nil
	}
	a.cfg = cfg
	// The head's check runs are read once: for the plans shown and for
	// `mergeable`.
	all, err := c.CheckRunsForRef(ctx, repo, pr.HeadSHA)
	if err != nil {
		return nil, "", err
	}
	runs := o.ownLatest(all)
	envs, refusals := selectApplyEnvs(cfg, req.Envs, runs)
	if len(envs) == 0 && len(refusals) == 0 {
		return nil, comments.ApplyRefusedReply(req.Actor, []comments.Refusal{{Reasons: []comments.Reason{comments.ReasonNothingToApply()}}}), nil
	}
	checks := newRequirementChecks(o, req.PR, pr)
	checks.runs = all
	if permErr == nil {
		checks.perms[req.Actor] = actorPermission
	}
	var already []comments.Refusal
	for _, env := range envs {
		run, planned := runs[checkName(env.Name)]
		planned = planned && run.Status == "completed" && run.ExternalID != ""
		if planned {
			rec, err := o.state.Record(ctx, env, repo.FullName())
			if err != nil {
				return nil, "", err
			}
			// A repeated /apply of a plan this PR applied and converged:
			// nothing to write, and re-planning would only show an empty
			// plan whose digest differs from the one shown.
			if rec.PR == req.Number && rec.Digest == run.ExternalID && rec.Outcome == kube.OutcomeConverged {
				already = append(already, comments.Refusal{Env: env.Name, Reasons: []comments.Reason{comments.ReasonAlreadyApplied(env.Name, rec.Digest)}})
				continue
			}
		}
		var reasons []comments.Reason
		allowed, why, err := o.mayApply(ctx, checks, env, req.Actor)
		if err != nil {
			return nil, "", err
		}
		if !allowed {
			reasons = append(reasons, why)
		}
		unmet, err := checks.unmet(ctx, env)
		if err != nil {
			return nil, "", err
		}
		reasons = append(reasons, unmet...)
		if !planned {
			reasons = append(reasons, comments.ReasonNotPlanned(env.Name, pr.HeadSHA))
		}
		if len(reasons) > 0 {
			refusals = append(refusals, comments.Refusal{Env: env.Name, Reasons: reasons})
			continue
		}
		a.envs = append(a.envs, &envApply{env: env, shown: run.ExternalID, runURL: run.HTMLURL})
	}
	if len(refusals) > 0 {
		return nil, comments.ApplyRefusedReply(req.Actor, refusals), nil
	}
	if len(a.envs) == 0 && len(already) > 0 {
		return nil, comments.ApplyRefusedReply(req.Actor, already), nil
	}
	return a, "", nil
}

// selectApplyEnvs resolves the environments of an apply: those named, or
// every on-comment environment whose latest plan has changes (its run
// waits for an apply: action_required). Environments that cannot be
// applied by comment are refusals.
func selectApplyEnvs(cfg *config.RepoConfig, named []string, runs map[string]gh.CheckRunInfo) ([]config.Environment, []comments.Refusal) {
	var envs []config.Environment
	var refusals []comments.Refusal
	if len(named) == 0 {
		for _, env := range config.Ordered(cfg.Environments) {
			run, ok := runs[checkName(env.Name)]
			if env.Apply == config.ApplyOnComment && ok && run.Conclusion == comments.ConclusionActionRequired {
				envs = append(envs, env)
			}
		}
		return envs, nil
	}
	var valid []string
	for _, env := range cfg.Environments {
		valid = append(valid, env.Name)
	}
	for _, env := range config.Ordered(cfg.Environments) {
		if !slices.Contains(named, env.Name) {
			continue
		}
		if env.Apply != config.ApplyOnComment {
			refusals = append(refusals, comments.Refusal{Env: env.Name, Reasons: []comments.Reason{comments.ReasonDeploysOnMerge(env.Name, comments.ApplyMode(env.Apply))}})
			continue
		}
		envs = append(envs, env)
	}
	for _, name := range named {
		if _, ok := cfg.Env(name); !ok {
			refusals = append(refusals, comments.Refusal{Env: name, Reasons: []comments.Reason{comments.ReasonUnknownEnv(valid)}})
		}
	}
	return envs, refusals
}

// lock takes every environment's PR lock. When another pull request holds
// one, the locks this attempt took are released and a.refused says why.
func (a *applyAttempt) lock(ctx context.Context) error {
	holder := lockHolder(a.req.Repo, a.req.Number)
	var refusals []comments.Refusal
	for _, e := range a.envs {
		taken, err := a.o.state.AcquireLock(ctx, e.env, a.req.Repo.FullName(), LockInfo{Holder: holder, By: a.req.Actor, Head: a.pr.HeadSHA})
		var locked *LockedError
		switch {
		case errors.As(err, &locked):
			refusals = append(refusals, comments.Refusal{Env: e.env.Name, Reasons: []comments.Reason{lockedReason(e.env.Name, locked.Lock.Holder)}})
		case err != nil:
			a.unlockTaken(ctx)
			return fmt.Errorf("lock %s: %w", e.env.Name, err)
		default:
			e.tookLock = taken
		}
	}
	if len(refusals) > 0 {
		a.unlockTaken(ctx)
		a.refused = comments.ApplyRefusedReply(a.req.Actor, refusals)
	}
	return nil
}

// unlockTaken releases the locks this attempt took.
func (a *applyAttempt) unlockTaken(ctx context.Context) {
	for _, e := range a.envs {
		a.unlockIfTaken(ctx, e)
	}
}

func (a *applyAttempt) unlockIfTaken(ctx context.Context, e *envApply) {
	if !e.tookLock {
		return
	}
	if err := a.o.state.ReleaseLock(ctx, e.env, a.req.Repo.FullName(), lockHolder(a.req.Repo, a.req.Number)); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Str("env", e.env.Name).Msg("could not release the lock this refused apply took")
		return
	}
	e.tookLock = false
}

// lockHolder is the PR lock's holder identity, "owner/repo#N".
func lockHolder(repo gh.Repo, number int) string {
	return fmt.Sprintf("%s#%d", repo.FullName(), number)
}

// latestRuns gives the newest run of each of tugboat's check-run names on
// a commit, made by this app.
func (o *Ops) latestRuns(ctx context.Context, pr PR, sha string) (map[string]gh.CheckRunInfo, error) {
	all, err := pr.Client.CheckRunsForRef(ctx, pr.Repo, sha)
	if err != nil {
		return nil, err
	}
	return o.ownLatest(all), nil
}

// ownLatest picks the newest of this app's runs of each name.
func (o *Ops) ownLatest(all []gh.CheckRunInfo) map[string]gh.CheckRunInfo {
	out := map[string]gh.CheckRunInfo{}
	for _, r := range all {
		if r.AppID != o.opts.AppID {
			continue
		}
		if cur, ok := out[r.Name]; !ok || r.ID > cur.ID {
			out[r.Name] = r
		}
	}
	return out
}

// revertDangerous finishes the revert of a closed pull request, dangerous
// deletes included, for someone with write access.
func (o *Ops) revertDangerous(ctx context.Context, req ApplyRequest, pr *gh.PullRequest) error {
	checks := newRequirementChecks(o, req.PR, pr)
	p, err := checks.permission(ctx, req.Actor)
	if err != nil {
		return err
	}
	if !canWrite(p) {
		return o.Reply(ctx, req.PR, comments.ApplyRefusedReply(req.Actor, []comments.Refusal{{Reasons: []comments.Reason{comments.ReasonNotAllowed(nil)}}}))
	}
	return o.revert(ctx, CloseRequest{PR: req.PR, Head: pr.HeadSHA, Actor: req.Actor, AllowDangerous: true})
}

// closedReason says why a closed pull request cannot be applied.
func closedReason(pr *gh.PullRequest) comments.Reason {
	if pr.Merged {
		return comments.ReasonMerged("")
	}
	return comments.ReasonClosed()
}

// lockedReason names the pull request holding env's lock.
func lockedReason(env, holder string) comments.Reason {
	n := holderPR(holder)
	if n == 0 {
		return comments.ReasonOther("locked by " + holder)
	}
	return comments.ReasonLocked(env, n)
}

// holderPR is the number of a lock holder "owner/repo#N" (0 if none).
func holderPR(holder string) int {
	_, num, _ := strings.Cut(holder, "#")
	n, _ := strconv.Atoi(num)
	return n
}

// reportPermission turns GitHub's "Resource not accessible by integration"
// (the App lacks a permission this version needs) into one note on the
// pull request asking to accept the App's new permissions, instead of an
// error stack in the log for every event.
func (o *Ops) reportPermission(ctx context.Context, pr PR, err error) error {
	if !gh.IsPermissionMissing(err) {
		return err
	}
	zerolog.Ctx(ctx).Warn().Err(err).Msg("the App lacks a permission")
	reply := comments.ApplyRefusedReply("", []comments.Refusal{{Reasons: []comments.Reason{comments.ReasonMissingPermission("", "")}}})
	return o.NoteOnce(ctx, pr, "permissions", reply)
}
