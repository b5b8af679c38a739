package gh

import (
	"context"
	"fmt"

	"github.com/google/go-github/v60/github"
)

// Deployment is a GitHub Deployment to create: what GitHub's PR page and
// Environments tab show as "deployed to <environment>".
type Deployment struct {
	// Ref is the commit deployed: a SHA (the PR head before merge, the
	// pushed commit after).
	Ref         string
	Environment string
	Description string
	// Production and Transient are GitHub's production_environment and
	// transient_environment, always sent (GitHub would otherwise guess
	// production from the name "production").
	Production, Transient bool
	// Payload is any JSON-encodable value (the applied commit, plan digest, PR).
	Payload any
}

// CreateDeployment creates a deployment and returns its id. It always
// sends auto_merge: false (else GitHub merges the default branch into a
// branch ref first and creates nothing) and required_contexts: [] (else
// GitHub refuses while any check on the commit is pending, tugboat's own
// included).
func (c *Client) CreateDeployment(ctx context.Context, repo Repo, d Deployment) (int64, error) {
	req := &github.DeploymentRequest{
		Ref: github.String(d.Ref), Environment: github.String(d.Environment),
		AutoMerge: github.Bool(false), RequiredContexts: &[]string{},
		ProductionEnvironment: github.Bool(d.Production), TransientEnvironment: github.Bool(d.Transient),
		Payload: d.Payload,
	}
	if d.Description != "" {
		req.Description = github.String(d.Description)
	}
	dep, _, err := c.v3.Repositories.CreateDeployment(ctx, repo.Owner, repo.Name, req)
	if err != nil {
		return 0, wrap(err, "create deployment of %s@%.7s to %s", repo, d.Ref, d.Environment)
	}
	if dep.GetID() == 0 {
		return 0, fmt.Errorf("create deployment of %s@%.7s to %s: GitHub created none", repo, d.Ref, d.Environment)
	}
	return dep.GetID(), nil
}

// DeploymentStatus is a deployment's new state: queued, in_progress,
// success, failure, error or inactive.
type DeploymentStatus struct {
	State, Description string
	// LogURL is where the deployment's output is (the check run); GitHub
	// shows it as the deployment's details.
	LogURL string
	// EnvironmentURL is where the environment answers (the environment's url:).
	EnvironmentURL string
}

// SetDeploymentStatus adds a status to deployment id. A description over
// GitHub's 140 characters is clipped with "…". A success makes GitHub mark
// the environment's earlier non-production deployments inactive.
func (c *Client) SetDeploymentStatus(ctx context.Context, repo Repo, id int64, st DeploymentStatus) error {
	req := &github.DeploymentStatusRequest{State: github.String(st.State)}
	if st.Description != "" {
		req.Description = github.String(clip(st.Description, MaxStatusDescription))
	}
	if st.LogURL != "" {
		req.LogURL = github.String(st.LogURL)
	}
	if st.EnvironmentURL != "" {
		req.EnvironmentURL = github.String(st.EnvironmentURL)
	}
	_, _, err := c.v3.Repositories.CreateDeploymentStatus(ctx, repo.Owner, repo.Name, id, req)
	return wrap(err, "set status %s of deployment %d on %s", st.State, id, repo)
}

// DeploymentInfo is a deployment as GitHub lists it, with its latest state.
type DeploymentInfo struct {
	ID               int64
	SHA, Ref         string
	Environment      string
	Creator          string // the login that created it: tugboat's carry the bot's login
	State            string // its latest status's state; "" before any
	StateDescription string
}

// DeploymentsOf lists the deployments of sha to environment, newest first,
// each with its latest state (one more request per deployment: GitHub's
// list does not say it). Meant for the few deployments of one commit.
func (c *Client) DeploymentsOf(ctx context.Context, repo Repo, sha, environment string) ([]DeploymentInfo, error) {
	opts := &github.DeploymentsListOptions{SHA: sha, Environment: environment, ListOptions: github.ListOptions{PerPage: 100}}
	var out []DeploymentInfo
	for {
		page, resp, err := c.v3.Repositories.ListDeployments(ctx, repo.Owner, repo.Name, opts)
		if err != nil {
			return nil, wrap(err, "list deployments of %s@%.7s to %s", repo, sha, environment)
		}
		for _, d := range page {
			info := DeploymentInfo{
				ID: d.GetID(), SHA: d.GetSHA(), Ref: d.GetRef(), Environment: d.GetEnvironment(), Creator: d.GetCreator().GetLogin(),
			}
			// Statuses are listed newest first: the first is the latest.
			sts, _, err := c.v3.Repositories.ListDeploymentStatuses(ctx, repo.Owner, repo.Name, info.ID, &github.ListOptions{PerPage: 1})
			if err != nil {
				return nil, wrap(err, "list statuses of deployment %d on %s", info.ID, repo)
			}
			if len(sts) > 0 {
				info.State, info.StateDescription = sts[0].GetState(), sts[0].GetDescription()
			}
			out = append(out, info)
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}
