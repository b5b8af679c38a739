package web

import (
	"context"
	"time"

	"github.com/tugboatops/tugboat/kube"
)

// Clusters is what the web pages read from the clusters. cmd/bot
// implements it over the kube registry; only the refresher calls it, never
// a request.
type Clusters interface {
	// Names lists the configured clusters.
	Names() []string
	// Records lists the ApplySet records in one cluster (kube.ListRecords).
	Records(ctx context.Context, cluster string) ([]kube.ApplySetRecord, error)
	// Locks lists the held PR locks in one cluster (kube.ListLocks).
	Locks(ctx context.Context, cluster string) (map[kube.ApplySet]kube.LockInfo, error)
}

// GitHub is what the web pages read from GitHub. cmd/bot implements it
// over package gh; only the refresher calls it, never a request.
type GitHub interface {
	// Repository says whether a repository ("owner/name") is private.
	Repository(ctx context.Context, repo string) (RepoInfo, error)
	// Deployments lists the newest deployments (at most limit) of repo to
	// environment env, newest first, each with its latest status.
	Deployments(ctx context.Context, repo, env string, limit int) ([]Deployment, error)
}

// RepoInfo is what the pages need of a repository.
type RepoInfo struct {
	Private bool
	// HTMLURL is the repository's page ("" means web URL + "/" + repo).
	HTMLURL string
}

// Deployment is a GitHub Deployment of an environment.
type Deployment struct {
	ID int64
	// SHA is the commit GitHub deployed (a PR's head before merge).
	SHA string
	// Commit and PR are what tugboat recorded in the payload: the commit
	// applied (a test merge commit before merge) and the pull request.
	Commit string
	PR     int
	// Description says what triggered it and who ("/apply by alice on #3").
	Description string
	// State is the latest status's state (success, failure, in_progress, ...).
	State   string
	Creator string
	Created time.Time
	// LogURL is the latest status's log_url (tugboat's check run).
	LogURL string
}
