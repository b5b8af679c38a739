package ops

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/applier"
	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/planner"
)

// StatusPrefix starts the context of the commit status an apply posts,
// tugboat/apply/<env>.
const StatusPrefix = "tugboat/apply/"

func statusContext(env string) string { return StatusPrefix + env }

// writeTarget says what one write to an environment is for and where its
// outcome is reported.
type writeTarget struct {
	Client *gh.Client
	Repo   gh.Repo
	// PR is the pull request applied or merged (0: a push without one); it
	// gets the result comment.
	PR      int
	Actor   string
	Trigger comments.Trigger
	// Head is the commit the check run, the tugboat/apply/<env> status and
	// the Deployment go on: the PR head before merge, the pushed commit after.
	Head           string
	AllowDangerous bool
	// KeepDangerous applies the rest when dangerous deletes are not
	// allowed, leaving those objects (a revert on close).
	KeepDangerous bool
	// PromoteTo are the environments promoted from this one: a converged
	// write's check run gets a Promote button for each (see promote_action.go).
	PromoteTo []string
	// Promotion is set when the merged pull request is a promotion (its
	// branch is the bot's tugboat/promote-…): the Deployment says so, and
	// the status page and `bot history` show it.
	Promotion bool
}

// writeOutcome is how a write ended.
type writeOutcome struct {
	// Refused is set when the applier refused before its first write (the
	// plan changed, problems, a dangerous delete, a missing permission):
	// nothing was written and nothing was reported; the caller says why.
	Refused error
	// Converged is true when the environment converged.
	Converged bool
	// Kept are the dangerous deletes left undone (KeepDangerous).
	Kept []planner.Change
	// Report is what was reported (nil when refused).
	Report *comments.ApplyReport
}

// write is the one path every write to a cluster takes once its caller has
// authorized it, checked its requirements and taken its lock: the apply
// mutex, then inputs prepared under it (so a write waiting its turn
// re-reads what it applies), then the applier — which re-plans and applies
// only if the digest is still shown — then the reports.
func (o *Ops) write(ctx context.Context, t writeTarget, env config.Environment, shown string, prepare func(context.Context) (planner.Input, error)) writeOutcome {
	held, release, err := o.state.AcquireMutex(ctx, env, t.Repo.FullName())
	if err != nil {
		return writeOutcome{Refused: err}
	}
	defer release()
	in, err := prepare(held)
	if err != nil {
		return writeOutcome{Refused: err}
	}
	return o.writeHeld(held, t, env, shown, in, nil, time.Now())
}

// writeHeld is write for a caller that holds env's apply mutex already; ctx
// is the context AcquireMutex gave it. planned, when set, is the plan of in
// the caller made under the mutex (Applier.Plan): the applier applies it
// instead of re-planning. start is when the apply began, for the reports.
func (o *Ops) writeHeld(ctx context.Context, t writeTarget, env config.Environment, shown string, in planner.Input, planned *applier.Planned, start time.Time) writeOutcome {
	log := zerolog.Ctx(ctx)
	// A pinned environment takes no write but the rollback that pins it:
	// checked here, under the apply mutex, so every write path obeys it.
	if t.Trigger != comments.TriggerRollback {
		if err := o.checkPin(ctx, env, t.Repo.FullName()); err != nil {
			log.Info().Err(err).Msg("not written: the environment is pinned")
			return writeOutcome{Refused: err}
		}
	}
	rep := &reporter{o: o, t: t, env: env, commit: in.Commit, start: start}
	res, err := o.applier.Apply(ctx, shown, in, applier.Options{
		AllowDangerous: t.AllowDangerous,
		KeepDangerous:  t.KeepDangerous,
		PR:             t.PR,
		Head:           t.Head,
		Trigger:        recordTrigger(t.Trigger),
		BeforeWrite:    rep.started,
		Progress:       rep.progress,
		Planned:        planned,
	})
	if !rep.opened() {
		if err == nil {
			err = errors.New("the apply ended before writing anything")
		}
		log.Info().Err(err).Msg("apply refused before any write")
		return writeOutcome{Refused: err}
	}
	report := rep.finish(ctx, res, err)
	out := writeOutcome{Converged: err == nil, Report: &report}
	if res != nil {
		out.Kept = res.Kept
	}
	return out
}

// reporter writes an apply's progress and outcome to GitHub: a new
// tugboat/<env> check run (a completed run can never go back to in
// progress), the tugboat/apply/<env> status, a GitHub Deployment, and the
// result comment.
type reporter struct {
	o      *Ops
	t      writeTarget
	env    config.Environment
	commit string
	start  time.Time

	mu         sync.Mutex
	plan       *planner.Plan
	runID      int64
	runURL     string
	deployment int64
	done       int
	total      int
	lastUpdate time.Time
	reported   sync.WaitGroup
}

func (r *reporter) opened() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.plan != nil
}

// started is called by the applier once the re-plan matched the shown
// digest and just before the first write: only now is there an apply to
// show. The GitHub writes run beside the apply; finish waits for them.
func (r *reporter) started(ctx context.Context, plan *planner.Plan) {
	total := 0
	for _, ch := range plan.Changes {
		if ch.Action != planner.ActionUnchanged {
			total++
		}
	}
	r.mu.Lock()
	r.plan = plan
	r.total = total
	r.mu.Unlock()
	r.reported.Add(1)
	go func() {
		defer r.reported.Done()
		r.open(context.WithoutCancel(ctx), plan)
	}()
}

func (r *reporter) open(ctx context.Context, plan *planner.Plan) {
	log := zerolog.Ctx(ctx)
	client, repo, env := r.t.Client, r.t.Repo, r.env
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		out := comments.ApplyingCheckRun(env.Name, plan, 0, r.total)
		id, err := client.CreateCheckRun(ctx, repo, gh.CheckRun{
			Name: checkName(env.Name), HeadSHA: r.t.Head, Status: "in_progress", ExternalID: plan.Digest,
			Title: out.Title, Summary: out.Summary, Text: out.Text,
		})
		if err != nil {
			log.Error().Err(err).Msg("could not create the apply's check run")
			return
		}
		r.mu.Lock()
		r.runID, r.runURL = id, r.o.checkRunURL(repo, id)
		r.mu.Unlock()
	}()
	go func() {
		defer wg.Done()
		state, desc := comments.ApplyPendingStatus(env.Name, plan)
		if err := client.SetStatus(ctx, repo, r.t.Head, gh.Status{Context: statusContext(env.Name), State: state, Description: desc}); err != nil {
			log.Error().Err(err).Msg("could not post the apply's pending status")
		}
	}()
	go func() {
		defer wg.Done()
		id, err := client.CreateDeployment(ctx, repo, gh.Deployment{
			Ref: r.t.Head, Environment: env.Name, Production: env.Production,
			Description: comments.DeploymentDescription(r.report(nil, nil)),
			Payload:     deploymentPayload{Commit: r.commit, Digest: plan.Digest, PR: r.t.PR},
		})
		if err != nil {
			log.Error().Err(err).Msg("could not create the GitHub Deployment")
			return
		}
		if err := client.SetDeploymentStatus(ctx, repo, id, gh.DeploymentStatus{State: "in_progress", EnvironmentURL: env.URL}); err != nil {
			log.Error().Err(err).Msg("could not mark the GitHub Deployment in progress")
		}
		r.mu.Lock()
		r.deployment = id
		r.mu.Unlock()
	}()
	wg.Wait()
}

// deploymentPayload is the payload of tugboat's GitHub Deployments.
type deploymentPayload struct {
	Commit string `json:"commit"`
	Digest string `json:"digest"`
	PR     int    `json:"pull_request,omitempty"`
}

// progressInterval spaces the check run's progress updates: GitHub's
// secondary limit allows 80 content-creating requests a minute.
const progressInterval = 3 * time.Second

// progress counts the writes as they land and updates the run now and then.
func (r *reporter) progress(e applier.ProgressEvent) {
	if e.Phase != applier.PhaseApply && e.Phase != applier.PhasePrune {
		return
	}
	r.mu.Lock()
	r.done++
	due := r.runID != 0 && time.Since(r.lastUpdate) >= progressInterval
	if due {
		r.lastUpdate = time.Now()
	}
	id, plan, done, total := r.runID, r.plan, r.done, r.total
	r.mu.Unlock()
	if !due {
		return
	}
	out := comments.ApplyingCheckRun(r.env.Name, plan, done, total)
	ctx := context.Background()
	if err := r.t.Client.UpdateCheckRun(ctx, r.t.Repo, id, gh.CheckRun{
		Name: checkName(r.env.Name), Status: "in_progress", Title: out.Title, Summary: out.Summary, Text: out.Text,
	}); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("could not update the apply's progress")
	}
}

func (r *reporter) report(res *applier.Result, err error) comments.ApplyReport {
	r.mu.Lock()
	runURL := r.runURL
	r.mu.Unlock()
	return comments.ApplyReport{
		Repo: r.t.Repo.FullName(), RepoURL: r.o.repoURL(r.t.Repo), PR: r.t.PR,
		Env: r.env.Name, Cluster: r.env.Cluster, Actor: r.t.Actor, Trigger: r.t.Trigger,
		Commit: r.commit, Head: r.t.Head, Result: res, Err: err, Took: time.Since(r.start),
		CheckRunURL: runURL, Promotion: r.t.Promotion,
	}
}

// finish concludes the run and the Deployment, posts the result comment on
// the pull request, and then the status.
func (r *reporter) finish(ctx context.Context, res *applier.Result, err error) comments.ApplyReport {
	r.reported.Wait()
	ctx = context.WithoutCancel(ctx)
	log := zerolog.Ctx(ctx)
	rep := r.report(res, err)
	client, repo, env := r.t.Client, r.t.Repo, r.env
	if r.runID != 0 {
		out := comments.AppliedCheckRun(rep)
		if uerr := client.UpdateCheckRun(ctx, repo, r.runID, gh.CheckRun{
			Name: checkName(env.Name), Status: "completed", Conclusion: out.Conclusion,
			Title: out.Title, Summary: out.Summary, Text: out.Text, Actions: finishedActions(env.Name, r.t.PromoteTo, err == nil),
		}); uerr != nil {
			log.Error().Err(uerr).Msg("could not conclude the apply's check run")
		}
	}
	if r.deployment != 0 {
		dstate := "success"
		if err != nil {
			dstate = "failure"
		}
		if derr := client.SetDeploymentStatus(ctx, repo, r.deployment, gh.DeploymentStatus{
			State: dstate, Description: comments.DeploymentDescription(rep), LogURL: rep.CheckRunURL, EnvironmentURL: env.URL,
		}); derr != nil {
			log.Error().Err(derr).Msg("could not conclude the GitHub Deployment")
		}
	}
	if r.t.PR != 0 {
		if _, cerr := client.CreateComment(ctx, repo, r.t.PR, comments.ApplyComment(rep)); cerr != nil {
			log.Error().Err(cerr).Msg("could not post the result comment")
		}
	}
	// The status goes last: whoever waits for tugboat/apply/<env> (branch
	// protection, a script, a person) then finds the run, the Deployment and
	// the comment already concluded.
	state, desc := comments.ApplyStatus(rep)
	if serr := client.SetStatus(ctx, repo, r.t.Head, gh.Status{Context: statusContext(env.Name), State: state, Description: desc, TargetURL: rep.CheckRunURL}); serr != nil {
		log.Error().Err(serr).Msg("could not post the apply's status")
	}
	ev := log.Info()
	if err != nil {
		ev = log.Warn().Err(err)
	}
	ev.Dur("took", time.Since(r.start)).Msg("applied")
	return rep
}

// refusalReason says why the applier refused before writing.
func refusalReason(env string, err error) comments.Reason {
	var danger *applier.DangerousError
	var problems *applier.ProblemsError
	var pinned *PinnedError
	switch {
	case errors.As(err, &pinned):
		return pinned.Reason()
	case errors.Is(err, applier.ErrPlanChanged):
		return comments.ReasonPlanChanged(env, "")
	case errors.As(err, &danger):
		return comments.ReasonDangerous(env, danger.Changes)
	case errors.As(err, &problems):
		return comments.ReasonProblems(len(problems.Problems))
	}
	return comments.ReasonOther(err.Error())
}

// recordTrigger is how the ApplySet record names what started a write.
func recordTrigger(t comments.Trigger) string {
	switch t {
	case comments.TriggerMerge:
		return kube.TriggerMerge
	case comments.TriggerClose:
		return kube.TriggerClose
	case comments.TriggerHeal:
		return kube.TriggerHeal
	case comments.TriggerRollback:
		return kube.TriggerRollback
	}
	return kube.TriggerApply
}
