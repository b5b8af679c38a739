package ops

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/kube"
)

// InterruptedMessage is the record's message for an apply whose process
// stopped before it could record an outcome.
const InterruptedMessage = "interrupted — /apply again"

// RecordStore is what concluding interrupted applies and drift rounds need
// of the clusters: every environment's record, who holds its apply mutex,
// a conditional write of the failure, and the drift annotations.
// *KubeState is the real one.
type RecordStore interface {
	// ClusterNames names the clusters records are kept in.
	ClusterNames() []string
	// ListRecords lists the records of every repository's environments in
	// a cluster.
	ListRecords(ctx context.Context, cluster string) ([]kube.ApplySetRecord, error)
	// MutexHolder says who holds env's apply mutex and whether that holder
	// still renews it.
	MutexHolder(ctx context.Context, env config.Environment, repo string) (holder string, live bool, err error)
	// FailInterrupted records the apply started as failed with message,
	// if the record still says that apply is in progress.
	FailInterrupted(ctx context.Context, env config.Environment, repo string, started kube.Record, message string) (bool, error)
	// SetDrift records the outcome of a drift check on a set's parent in
	// a cluster.
	SetDrift(ctx context.Context, cluster string, set kube.ApplySet, d kube.DriftStatus) error
}

// RepoClients gives the client of the installation a repository belongs
// to; *gh.Factory is the real one.
type RepoClients interface {
	ForRepo(ctx context.Context, repo gh.Repo) (*gh.Client, error)
}

// maxConcluding bounds the interrupted applies concluded at once: each may
// wait up to a mutex lease duration for its dead holder's mutex.
const maxConcluding = 8

// ConcludeInterrupted concludes the applies a stopped bot process left in
// progress (killed, OOM, node lost): their records say "in-progress", and
// on GitHub their tugboat/<env> run stays in progress, their
// tugboat/apply/<env> status pending, their Deployment in progress —
// forever, since the process that would have concluded them is gone.
//
// For each record in progress in each cluster, it takes the environment's
// apply mutex: a live process applying there holds it, and finishes and
// records its own apply before letting go, so the record read under the
// mutex still naming the same apply in progress means its process died.
// That apply's run, status and Deployments on the recorded head are then
// concluded as interrupted (through the repository's installation), and
// the record becomes failed with InterruptedMessage — last, so a failure on
// GitHub leaves the record for the next start to try again. A pull
// request's environment is then planned again: part of the plan may have
// landed, and the plan an `/apply` applies must show what is left.
//
// It runs in the background at start-up and returns once every record was
// looked at, with the errors met on the way.
func (o *Ops) ConcludeInterrupted(ctx context.Context, clients RepoClients) error {
	if o.records == nil {
		return nil
	}
	log := zerolog.Ctx(ctx)
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	addErr := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	sem := make(chan struct{}, maxConcluding)
	conclude := func(cluster string, r kube.ApplySetRecord) {
		defer wg.Done()
		sem <- struct{}{}
		defer func() { <-sem }()
		rlog := log.With().Str("repo", r.Set.Repo).Str("env", r.Set.Env).Str("cluster", cluster).
			Int("pr", r.Record.PR).Str("head", comments.ShortSHA(r.Record.Head)).Logger()
		if err := o.concludeOne(rlog.WithContext(ctx), clients, cluster, r); err != nil {
			rlog.Error().Err(err).Msg("could not conclude an interrupted apply")
			addErr(fmt.Errorf("%s environment %s: %w", r.Set.Repo, r.Set.Env, err))
		}
	}
	// Clusters are listed side by side: one that does not answer must not
	// hold up the others.
	for _, cluster := range o.records.ClusterNames() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs, err := o.records.ListRecords(ctx, cluster)
			if err != nil {
				addErr(fmt.Errorf("cluster %s: %w", cluster, err))
				return
			}
			for _, r := range recs {
				if r.Record.Outcome == kube.OutcomeInProgress {
					wg.Add(1)
					go conclude(cluster, r)
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// concludeOne concludes one apply recorded in progress, if its process is
// gone.
func (o *Ops) concludeOne(ctx context.Context, clients RepoClients, cluster string, r kube.ApplySetRecord) error {
	log := zerolog.Ctx(ctx)
	env := config.Environment{Name: r.Set.Env, Cluster: cluster}
	holder, live, err := o.records.MutexHolder(ctx, env, r.Set.Repo)
	if err != nil {
		return err
	}
	if live {
		// Its holder may be a replica still applying (it concludes its own
		// apply), or a process that just died and renewed last moments ago:
		// the mutex tells them apart once the holder stops renewing.
		log.Info().Str("holder", holder).Msg("an apply is recorded in progress and its mutex is held: waiting for the mutex")
	}
	held, unlock, err := o.state.AcquireMutex(ctx, env, r.Set.Repo)
	if err != nil {
		return err
	}
	// Released before the re-plan, which needs no mutex; once only.
	release := sync.OnceFunc(unlock)
	defer release()
	cur, err := o.state.Record(held, env, r.Set.Repo)
	if err != nil {
		return err
	}
	if cur.Outcome != kube.OutcomeInProgress || cur.Commit != r.Record.Commit || cur.Head != r.Record.Head ||
		cur.Digest != r.Record.Digest || !cur.Time.Equal(r.Record.Time) {
		log.Info().Str("outcome", string(cur.Outcome)).Msg("the apply recorded in progress was concluded by its own process")
		return nil
	}
	repo := splitFullName(r.Set.Repo)
	var client *gh.Client
	if r.Record.Head != "" {
		client, err = clients.ForRepo(held, repo)
		switch {
		case gh.IsNotFound(err):
			// The app is no longer installed there: nothing on GitHub can be
			// concluded, but the record still can.
			log.Warn().Err(err).Msg("the repository has no installation of the app: only the record is concluded")
			client = nil
		case err != nil:
			return err
		}
	}
	if client != nil {
		if err := o.concludeOnGitHub(held, client, repo, r.Set.Env, r.Record); err != nil {
			return err
		}
	}
	wrote, err := o.records.FailInterrupted(held, env, r.Set.Repo, r.Record, InterruptedMessage)
	if err != nil {
		return err
	}
	release()
	if !wrote {
		return nil
	}
	log.Warn().Str("commit", comments.ShortSHA(r.Record.Commit)).Msg("concluded an apply interrupted by a stopped bot process")
	if client != nil && r.Record.PR != 0 && r.Record.Trigger == kube.TriggerApply {
		o.replanInterrupted(ctx, PR{Client: client, Repo: repo, Number: r.Record.PR}, r.Set.Env, r.Record.Head)
	}
	return nil
}

// concludeOnGitHub concludes what an interrupted apply opened on its head:
// the newest tugboat/<env> run, if it is still the apply's and in
// progress; the tugboat/apply/<env> status, if pending; and the env's
// Deployments of the head still in progress. Only tugboat's own (by App
// id and bot login) are touched.
func (o *Ops) concludeOnGitHub(ctx context.Context, c *gh.Client, repo gh.Repo, env string, rec kube.Record) error {
	log := zerolog.Ctx(ctx)
	runs, err := c.CheckRunsForRef(ctx, repo, rec.Head)
	if err != nil {
		return err
	}
	var run *gh.CheckRunInfo
	for i := range runs {
		r := &runs[i]
		if r.Name == checkName(env) && r.AppID == o.opts.AppID && (run == nil || r.ID > run.ID) {
			run = r
		}
	}
	runURL := ""
	if run != nil && run.Status != "completed" && run.ExternalID == rec.Digest {
		out := comments.InterruptedCheckRun(env)
		if err := c.UpdateCheckRun(ctx, repo, run.ID, gh.CheckRun{
			Name: checkName(env), Status: "completed", Conclusion: out.Conclusion,
			Title: out.Title, Summary: out.Summary, Text: out.Text, Actions: []gh.Action{replanAction},
		}); err != nil {
			return err
		}
		runURL = o.checkRunURL(repo, run.ID)
		log.Info().Int64("run", run.ID).Msg("concluded the interrupted apply's check run")
	}
	statuses, err := c.Statuses(ctx, repo, rec.Head)
	if err != nil {
		return err
	}
	state, desc := comments.InterruptedStatus(env)
	for _, st := range statuses {
		if st.Context != statusContext(env) || st.State != comments.StatePending || st.Creator != o.opts.BotLogin {
			continue
		}
		target := runURL
		if target == "" {
			target = st.TargetURL
		}
		if err := c.SetStatus(ctx, repo, rec.Head, gh.Status{Context: st.Context, State: state, Description: desc, TargetURL: target}); err != nil {
			return err
		}
	}
	deps, err := c.DeploymentsOf(ctx, repo, rec.Head, env)
	if err != nil {
		return err
	}
	for _, d := range deps {
		if d.Creator != o.opts.BotLogin || !deploymentOpen(d.State) {
			continue
		}
		if err := c.SetDeploymentStatus(ctx, repo, d.ID, gh.DeploymentStatus{State: "error", Description: desc, LogURL: runURL}); err != nil {
			return err
		}
	}
	return nil
}

// deploymentOpen reports whether a Deployment in this state may still be
// waiting for its outcome: created with no status yet, queued, pending or
// in progress.
func deploymentOpen(state string) bool {
	switch state {
	case "", "queued", "pending", "in_progress":
		return true
	}
	return false
}

// replanInterrupted plans env of the pull request again after its apply
// was interrupted, if the pull request is still open at the head applied:
// what landed is no longer a change, so the plan shown before no longer
// matches, and an `/apply` must be of the plan of what is left.
func (o *Ops) replanInterrupted(ctx context.Context, pr PR, env, head string) {
	log := zerolog.Ctx(ctx)
	cur, err := pr.Client.PullRequest(ctx, pr.Repo, pr.Number, o.opts.Mergeable)
	if err != nil {
		log.Error().Err(err).Msg("could not read the pull request to plan it again")
		return
	}
	if cur.State != "open" || cur.HeadSHA != head {
		return
	}
	if err := o.PlanPR(ctx, PlanRequest{PR: pr, Envs: []string{env}}); err != nil {
		log.Error().Err(err).Msg("could not plan the interrupted environment again")
	}
}

// splitFullName splits "owner/name".
func splitFullName(full string) gh.Repo {
	owner, name, _ := strings.Cut(full, "/")
	return gh.Repo{Owner: owner, Name: name}
}
