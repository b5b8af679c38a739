// Package handlers turns GitHub webhooks into operations: one file per
// event (pull_request.go, issue_comment.go, check_run.go, installation.go)
// over the shared Base. Handlers decode, decide and call ops; they know
// nothing of Kubernetes.
package handlers

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/handlers/queue"
	"github.com/tugboatops/tugboat/ops"
)

// detacher hands an apply to the apply pool while the pull request's later
// events wait for it (see queue.Detach).
func detacher(ctx context.Context) func() func() {
	return func() func() { return queue.Detach(ctx) }
}

// Operations is what the handlers ask of ops; *ops.Ops implements it.
type Operations interface {
	PlanPR(ctx context.Context, req ops.PlanRequest) error
	ApplyPR(ctx context.Context, req ops.ApplyRequest) error
	Unlock(ctx context.Context, req ops.UnlockRequest) error
	Closed(ctx context.Context, req ops.CloseRequest) error
	DeployPush(ctx context.Context, req ops.PushRequest) error
	ReviewChanged(ctx context.Context, pr ops.PR) error
	MergeGroup(ctx context.Context, req ops.MergeGroupRequest) error
	NoteOnce(ctx context.Context, pr ops.PR, key, body string) error
	Reply(ctx context.Context, pr ops.PR, body string) error
	Promote(ctx context.Context, req ops.PromoteRequest) error
	Rollback(ctx context.Context, req ops.RollbackRequest) error
	Unpin(ctx context.Context, req ops.UnpinRequest) error
}

// Clients gives installation clients; *gh.Factory implements it.
type Clients interface {
	Installation(id int64) (*gh.Client, error)
}

// Base is what every handler shares.
type Base struct {
	Clients Clients
	Ops     Operations
	// AppSlug is how commands may address the app (@slug plan); BotLogin is
	// the app's own account, whose comments are never taken as commands.
	AppSlug, BotLogin string
	// Allowed says whether a repository ("owner/name") is served.
	Allowed func(fullName string) bool
	// AllowForkPlans plans fork PRs and /plan from people without write access.
	AllowForkPlans bool
}

// pr builds the ops view of a pull request, and the context to handle it
// in: its logger (the dispatcher's, which names the event and delivery)
// gains the repository and number, the way go-githubapp's PreparePRContext
// does, and travels from here down through ops, planner, applier and gh;
// GitHub's 404s are retried briefly (the event may be ahead of GitHub's API
// replicas).
func (b *Base) pr(ctx context.Context, installation int64, fullName string, number int) (context.Context, ops.PR, error) {
	repo := splitRepo(fullName)
	log := zerolog.Ctx(ctx).With().Str("repo", fullName).Int("pr", number).Logger()
	ctx = gh.AfterWebhook(log.WithContext(ctx), time.Now())
	c, err := b.Clients.Installation(installation)
	if err != nil {
		return ctx, ops.PR{}, err
	}
	return ctx, ops.PR{Client: c, Repo: repo, Number: number}, nil
}

func (b *Base) allowed(ctx context.Context, fullName string) bool {
	if b.Allowed == nil || b.Allowed(fullName) {
		return true
	}
	zerolog.Ctx(ctx).Debug().Str("repo", fullName).Msg("repository not in allowed_repositories: event ignored")
	return false
}

func splitRepo(fullName string) gh.Repo {
	for i := 0; i < len(fullName); i++ {
		if fullName[i] == '/' {
			return gh.Repo{Owner: fullName[:i], Name: fullName[i+1:]}
		}
	}
	return gh.Repo{Owner: fullName}
}
