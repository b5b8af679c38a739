package ops

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/planner"
)

// Self-heal backoff: a heal that fails, or drift that keeps coming back (a
// controller in the cluster fighting tugboat), spaces the next heal out,
// doubling from healBackoffMin up to healBackoffMax.
const (
	healBackoffMin = time.Minute
	healBackoffMax = time.Hour
)

// healBackoff keeps each environment's run of heals in memory. That is
// enough on the leader, the one replica running drift rounds: a new leader
// starts with no backoff, so at worst one heal comes sooner than it would
// have — the apply mutex still keeps heals from overlapping any write.
type healBackoff struct {
	mu   sync.Mutex
	now  func() time.Time
	envs map[string]*healRun
}

// healRun is one environment's heals since it last stayed in sync.
type healRun struct {
	heals int
	last  time.Time // the last heal
	next  time.Time // no heal before
}

func newHealBackoff() *healBackoff {
	return &healBackoff{now: time.Now, envs: map[string]*healRun{}}
}

// waitUntil is when key's next heal may run; zero: now.
func (b *healBackoff) waitUntil(key string) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	if r := b.envs[key]; r != nil && b.now().Before(r.next) {
		return r.next
	}
	return time.Time{}
}

// healed records a heal of key (whatever its outcome): the next waits
// healBackoffMin, doubled for each heal before it in the run.
func (b *healBackoff) healed(key string) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.envs[key]
	if r == nil {
		r = &healRun{}
		b.envs[key] = r
	}
	r.heals++
	wait := healBackoffMax
	if r.heals <= 7 { // 1m << 6 = 64m > 1h
		wait = min(healBackoffMin<<(r.heals-1), healBackoffMax)
	}
	r.last = b.now()
	r.next = r.last.Add(wait)
	return r.next
}

// inSync ends key's run once it stayed in sync for healBackoffMax after its
// last heal: drift that comes back within the hour counts as the same
// fight.
func (b *healBackoff) inSync(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if r := b.envs[key]; r != nil && b.now().Sub(r.last) >= healBackoffMax {
		delete(b.envs, key)
	}
}

// driftHeal reports a drifted `apply: auto` environment and heals it,
// unless its backoff says to wait: the issue first shows what drifted,
// then the heal's result comment; a check after a heal that converged
// closes the issue as healed.
func (o *Ops) driftHeal(ctx context.Context, d *driftReporter, prev kube.DriftStatus, check driftCheck, roundStart time.Time) error {
	log := zerolog.Ctx(ctx)
	key := d.rc.repo.FullName() + "/" + d.env.Name
	if until := o.heals.waitUntil(key); !until.IsZero() {
		log.Info().Time("until", until).Msg("drift: not healing yet (backoff)")
		_, err := d.report(ctx, prev, check, comments.HealWaiting(until), false)
		return err
	}
	ref := comments.DriftRef(d.ref(), check.status.Commit)
	st, err := d.report(ctx, prev, check, comments.HealInProgress(ref), false)
	if err != nil {
		// The heal still runs: the drift is real, and the issue is only
		// its report.
		log.Error().Err(err).Msg("drift: could not report the drift before healing it")
	}
	out, why, nothing := o.heal(ctx, d)
	if nothing {
		// Another write fixed it meanwhile: check again to report that.
		recheck := o.checkDrift(ctx, d.rc, d.env, check.status.Commit, roundStart)
		_, err := d.report(ctx, st, recheck, "", false)
		return err
	}
	until := o.heals.healed(key)
	if why != "" {
		log.Warn().Str("reason", why).Msg("drift: not healed")
		if cerr := d.comment(ctx, comments.HealNotDoneComment(d.env.Name, why)); cerr != nil {
			log.Error().Err(cerr).Msg("drift: could not say why the environment was not healed")
		}
		_, err := d.report(ctx, st, check, comments.HealWaiting(until), false)
		return err
	}
	if cerr := d.comment(ctx, comments.ApplyComment(*out.Report)); cerr != nil {
		log.Error().Err(cerr).Msg("drift: could not post the heal's result on the drift issue")
	}
	recheck := o.checkDrift(ctx, d.rc, d.env, check.status.Commit, roundStart)
	healing := ""
	if recheck.status.State == kube.DriftDrifted {
		healing = comments.HealWaiting(until)
	}
	_, err = d.report(ctx, st, recheck, healing, out.Converged && recheck.status.State == kube.DriftInSync)
	return err
}

// heal re-applies the recorded commit through the same write path as every
// write: the authorization is the trusted configuration's `apply: auto`,
// there are no requirements left (the commit was deployed already), then
// the PR lock (a pull request applied before merge owns the environment:
// its change is not drift to undo), the apply mutex, the record read again
// under it (another write may have recorded a newer commit: that one is
// the next round's to check), a plan under the mutex whose digest the
// applier applies, and the same reports as any apply (check run, status,
// Deployment on the recorded commit; the result comment goes to the drift
// issue). Dangerous objects are never pruned (KeepDangerous). why says why
// nothing was written; nothing is set when there was nothing left to heal.
func (o *Ops) heal(ctx context.Context, d *driftReporter) (out writeOutcome, why string, nothing bool) {
	env, repo, rec := d.env, d.rc.repo, d.target.rec.Record
	lock, err := o.state.ReadLock(ctx, env, repo.FullName())
	if err != nil {
		return out, "could not read the environment's lock: " + err.Error(), false
	}
	if lock != nil {
		return out, fmt.Sprintf("%s holds the environment's lock: its change stays until it merges, closes or someone comments /unlock", lock.Holder), false
	}
	if ctx.Err() != nil {
		return out, "the bot is stopping", false
	}
	// A heal, once started, is not cut short by the end of the round's
	// context (the bot shutting down): like any apply it runs to its end
	// rather than leave the environment half-written.
	held, release, err := o.state.AcquireMutex(context.WithoutCancel(ctx), env, repo.FullName())
	if err != nil {
		return out, err.Error(), false
	}
	defer release()
	cur, err := o.state.Record(held, env, repo.FullName())
	if err != nil {
		return out, "could not read the environment's record: " + err.Error(), false
	}
	if cur.Commit != rec.Commit || cur.Outcome == kube.OutcomeInProgress {
		return out, fmt.Sprintf("another write recorded %s meanwhile; the next drift check compares with it", comments.ShortSHA(cur.Commit)), false
	}
	fsys, err := d.rc.tree(held, rec.Commit)
	if err != nil {
		return out, "could not read the recorded commit", false
	}
	in := planner.Input{Repo: fsys, RepoName: repo.FullName(), Env: env, Commit: rec.Commit}
	start := time.Now()
	planned, err := o.applier.Plan(held, in)
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("drift: planning the heal failed")
		return out, "planning the recorded commit failed (the bot's log has the error)", false
	}
	if len(planned.Plan.Problems) > 0 {
		return out, comments.ReasonProblems(len(planned.Plan.Problems)).Text(), false
	}
	if !planned.Plan.HasChanges() {
		return out, "", true
	}
	t := writeTarget{Client: d.rc.client, Repo: repo, Trigger: comments.TriggerHeal, Head: rec.Commit, KeepDangerous: true}
	out = o.writeHeld(held, t, env, planned.Plan.Digest, in, planned, start)
	if out.Refused != nil {
		return out, refusalReason(env.Name, out.Refused).Text(), false
	}
	return out, "", false
}
