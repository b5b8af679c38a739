package githubtest

import (
	"encoding/json"
	"sort"
	"time"
)

// The types and methods below let tests see what a client left behind, in
// the order it happened.

// Comment is an issue or pull request comment.
type Comment struct {
	ID        int64
	NodeID    string
	Author    string
	Body      string
	CreatedAt time.Time
	UpdatedAt time.Time
	// Minimized is the GraphQL classifier it was hidden with ("OUTDATED"), or "".
	Minimized string
	Reactions []Reaction
}

// Reaction is an emoji reaction on a comment.
type Reaction struct {
	User, Content string
}

// CheckRun is a check run as it stands now.
type CheckRun struct {
	ID                   int64
	Name, HeadSHA        string
	Status, Conclusion   string
	ExternalID           string
	DetailsURL           string
	Title, Summary, Text string
	Annotations          []map[string]any
	Actions              []map[string]any
	StartedAt            time.Time
	CompletedAt          *time.Time
	// AppID is the GitHub App that made it: tugboat's (s.App().ID) or
	// another's (AddCheckRun).
	AppID int64
}

// Status is a commit status.
type Status struct {
	ID                                    int64
	SHA, State, Context, Description, URL string
	Creator                               string
	CreatedAt                             time.Time
}

// Issue is an issue (not a pull request).
type Issue struct {
	Number      int
	Title, Body string
	State       string
	Labels      []string
	Author      string
}

// PullRequest is a pull request's state as GitHub would report it.
type PullRequest struct {
	Number                    int
	Title, Body, Author       string
	HeadRef, HeadSHA, BaseRef string
	State                     string
	Draft, Merged             bool
	// Mergeable is nil while GitHub is computing it.
	Mergeable      *bool
	MergeableState string
	MergeCommitSHA string
	Reviews        []Review
}

// Review is a pull request review.
type Review struct {
	ID       int64
	Author   string
	State    string
	CommitID string
	Body     string
}

// Comments lists the live comments of issue or pull request n, oldest first.
func (s *Server) Comments(repo string, n int) []Comment {
	rp, err := s.repo(repo)
	if err != nil {
		s.fatalf("Comments: %v", err)
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range rp.comments {
		if c.issue != n || c.deleted {
			continue
		}
		cm := Comment{ID: c.id, NodeID: nodeID("IC", c.id), Author: c.author.Login, Body: c.body,
			CreatedAt: c.createdAt, UpdatedAt: c.updatedAt, Minimized: c.minimized}
		for _, rc := range c.reactions {
			cm.Reactions = append(cm.Reactions, Reaction{User: rc.user.Login, Content: rc.content})
		}
		out = append(out, cm)
	}
	return out
}

// Reactions lists the reactions on comment id.
func (s *Server) Reactions(repo string, commentID int64) []Reaction {
	rp, err := s.repo(repo)
	if err != nil {
		s.fatalf("Reactions: %v", err)
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Reaction
	for _, c := range rp.comments {
		if c.id == commentID {
			for _, rc := range c.reactions {
				out = append(out, Reaction{User: rc.user.Login, Content: rc.content})
			}
		}
	}
	return out
}

// CheckRuns lists the check runs on sha, in creation order.
func (s *Server) CheckRuns(repo, sha string) []CheckRun {
	rp, err := s.repo(repo)
	if err != nil {
		s.fatalf("CheckRuns: %v", err)
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CheckRun
	for _, c := range rp.checkRuns {
		if c.headSHA == sha {
			out = append(out, CheckRun{
				ID: c.id, Name: c.name, HeadSHA: c.headSHA, Status: c.status, Conclusion: c.conclusion,
				ExternalID: c.externalID, DetailsURL: c.detailsURL, Title: c.title, Summary: c.summary, Text: c.text,
				Annotations: append([]map[string]any(nil), c.annotations...), Actions: append([]map[string]any(nil), c.actions...),
				StartedAt: c.startedAt, CompletedAt: c.completedAt, AppID: c.app.ID,
			})
		}
	}
	return out
}

// Statuses lists the commit statuses on sha, in creation order.
func (s *Server) Statuses(repo, sha string) []Status {
	rp, err := s.repo(repo)
	if err != nil {
		s.fatalf("Statuses: %v", err)
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Status
	for _, st := range rp.statuses {
		if st.sha == sha {
			out = append(out, Status{ID: st.id, SHA: st.sha, State: st.state, Context: st.context,
				Description: st.description, URL: st.targetURL, Creator: st.creator.Login, CreatedAt: st.createdAt})
		}
	}
	return out
}

// Issues lists the repository's issues (not pull requests) by number.
func (s *Server) Issues(repo string) []Issue {
	rp, err := s.repo(repo)
	if err != nil {
		s.fatalf("Issues: %v", err)
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Issue
	for _, is := range rp.issues {
		out = append(out, Issue{Number: is.number, Title: is.title, Body: is.body, State: is.state,
			Labels: append([]string(nil), is.labels...), Author: is.author.Login})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out
}

// PR returns pull request n as GitHub would report it now.
func (s *Server) PR(repo string, n int) PullRequest {
	rp, err := s.repo(repo)
	if err != nil {
		s.fatalf("PR: %v", err)
		return PullRequest{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pr, ok := rp.pulls[n]
	if !ok {
		s.fatalf("PR: no pull request %s#%d", repo, n)
		return PullRequest{}
	}
	mergeable, state := s.mergeability(rp, pr)
	out := PullRequest{
		Number: pr.number, Title: pr.title, Body: pr.body, Author: pr.author.Login,
		HeadRef: pr.headRef, HeadSHA: pr.headSHA, BaseRef: pr.baseRef, State: pr.state,
		Draft: pr.draft, Merged: pr.merged, Mergeable: mergeable, MergeableState: state,
		MergeCommitSHA: pr.mergeCommitSHA,
	}
	for _, rv := range pr.reviews {
		out.Reviews = append(out.Reviews, Review{ID: rv.id, Author: rv.author.Login, State: rv.state, CommitID: rv.commitID, Body: rv.body})
	}
	return out
}

// Deployment is a GitHub Deployment with its statuses.
type Deployment struct {
	ID                    int64
	SHA, Ref, Task        string
	Environment           string
	Description, Creator  string
	Payload               any
	Transient, Production bool
	CreatedAt             time.Time
	// Statuses are oldest first.
	Statuses []DeploymentStatus
}

// State is the latest status's state, or "" before the first status.
func (d Deployment) State() string {
	if len(d.Statuses) == 0 {
		return ""
	}
	return d.Statuses[len(d.Statuses)-1].State
}

// DeploymentStatus is one status of a deployment.
type DeploymentStatus struct {
	ID                                int64
	State, Description, Environment   string
	LogURL, TargetURL, EnvironmentURL string
	Creator                           string
	CreatedAt                         time.Time
}

// Deployments lists the repository's deployments in creation order.
func (s *Server) Deployments(repo string) []Deployment {
	rp, err := s.repo(repo)
	if err != nil {
		s.fatalf("Deployments: %v", err)
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Deployment
	for _, d := range rp.deployments {
		out = append(out, deploymentOf(d))
	}
	return out
}

// deploymentOf copies a deployment for inspection. Callers hold s.mu.
func deploymentOf(d *deployment) Deployment {
	// The payload is decoded JSON: a copy through JSON shares nothing.
	var payload any
	if b, err := json.Marshal(d.payload); err == nil {
		json.Unmarshal(b, &payload)
	}
	out := Deployment{
		ID: d.id, SHA: d.sha, Ref: d.ref, Task: d.task, Environment: d.environment,
		Description: d.description, Creator: d.creator.Login, Payload: payload,
		Transient: d.transient, Production: d.production, CreatedAt: d.createdAt,
	}
	for _, st := range d.statuses {
		out.Statuses = append(out.Statuses, DeploymentStatus{
			ID: st.id, State: st.state, Description: st.description, Environment: st.environment,
			LogURL: st.logURL, TargetURL: st.targetURL, EnvironmentURL: st.envURL,
			Creator: st.creator.Login, CreatedAt: st.createdAt,
		})
	}
	return out
}
