package gh

import (
	"context"
	"time"

	"github.com/google/go-github/v60/github"
)

// MaxAnnotationsPerRequest is GitHub's limit of annotations in one
// check-run create or update; further updates append.
const MaxAnnotationsPerRequest = 50

// MaxAnnotationsSent is how many annotations one CreateCheckRun or
// UpdateCheckRun sends (ten requests): the first ones; the rest are
// dropped, so a run with a million problems is not a million / 50
// requests against GitHub's rate limits. Callers that want to say so
// cap (and tell) first.
const MaxAnnotationsSent = 500

// Annotation marks a file and line in a check run.
type Annotation struct {
	Path               string
	StartLine, EndLine int
	Level              string // notice, warning or failure
	Title, Message     string
}

// Action is a button on a completed check run.
type Action struct {
	Label, Description, Identifier string
}

// CheckRun is the state to give a check run.
type CheckRun struct {
	Name    string
	HeadSHA string
	// Status is queued, in_progress or completed; Conclusion is required
	// with completed.
	Status, Conclusion     string
	Title, Summary, Text   string
	ExternalID, DetailsURL string
	Annotations            []Annotation
	Actions                []Action
}

// CreateCheckRun creates a check run and returns its id. Annotations beyond
// the first 50 are sent in further updates, up to MaxAnnotationsSent.
func (c *Client) CreateCheckRun(ctx context.Context, repo Repo, cr CheckRun) (int64, error) {
	first, rest := splitAnnotations(capAnnotations(cr.Annotations))
	opts := github.CreateCheckRunOptions{
		Name:       cr.Name,
		HeadSHA:    cr.HeadSHA,
		Status:     optional(cr.Status),
		Conclusion: optional(cr.Conclusion),
		ExternalID: optional(cr.ExternalID),
		DetailsURL: optional(cr.DetailsURL),
		Output:     output(cr, first),
		Actions:    actions(cr.Actions),
	}
	if cr.Status == "completed" {
		opts.CompletedAt = &github.Timestamp{Time: time.Now()}
	}
	run, _, err := c.v3.Checks.CreateCheckRun(ctx, repo.Owner, repo.Name, opts)
	if err != nil {
		return 0, wrap(err, "create check run %s on %s@%.7s", cr.Name, repo, cr.HeadSHA)
	}
	return run.GetID(), c.appendAnnotations(ctx, repo, run.GetID(), cr, rest)
}

// UpdateCheckRun sets a check run's state. Annotations beyond the first 50
// are sent in further updates, up to MaxAnnotationsSent.
func (c *Client) UpdateCheckRun(ctx context.Context, repo Repo, id int64, cr CheckRun) error {
	first, rest := splitAnnotations(capAnnotations(cr.Annotations))
	opts := github.UpdateCheckRunOptions{
		Name:       cr.Name,
		Status:     optional(cr.Status),
		Conclusion: optional(cr.Conclusion),
		ExternalID: optional(cr.ExternalID),
		DetailsURL: optional(cr.DetailsURL),
		Output:     output(cr, first),
		Actions:    actions(cr.Actions),
	}
	if cr.Status == "completed" {
		opts.CompletedAt = &github.Timestamp{Time: time.Now()}
	}
	if _, _, err := c.v3.Checks.UpdateCheckRun(ctx, repo.Owner, repo.Name, id, opts); err != nil {
		return wrap(err, "update check run %s (%d) on %s", cr.Name, id, repo)
	}
	return c.appendAnnotations(ctx, repo, id, cr, rest)
}

func (c *Client) appendAnnotations(ctx context.Context, repo Repo, id int64, cr CheckRun, rest []Annotation) error {
	for len(rest) > 0 {
		var batch []Annotation
		batch, rest = splitAnnotations(rest)
		opts := github.UpdateCheckRunOptions{Name: cr.Name, Output: &github.CheckRunOutput{
			Title: github.String(cr.Title), Summary: github.String(cr.Summary), Annotations: annotations(batch),
		}}
		if _, _, err := c.v3.Checks.UpdateCheckRun(ctx, repo.Owner, repo.Name, id, opts); err != nil {
			return wrap(err, "add annotations to check run %s (%d) on %s", cr.Name, id, repo)
		}
	}
	return nil
}

func capAnnotations(a []Annotation) []Annotation {
	return a[:min(len(a), MaxAnnotationsSent)]
}

func splitAnnotations(a []Annotation) (first, rest []Annotation) {
	if len(a) <= MaxAnnotationsPerRequest {
		return a, nil
	}
	return a[:MaxAnnotationsPerRequest], a[MaxAnnotationsPerRequest:]
}

func output(cr CheckRun, anns []Annotation) *github.CheckRunOutput {
	if cr.Title == "" && cr.Summary == "" {
		return nil
	}
	out := &github.CheckRunOutput{Title: github.String(cr.Title), Summary: github.String(cr.Summary), Annotations: annotations(anns)}
	if cr.Text != "" {
		out.Text = github.String(cr.Text)
	}
	return out
}

func annotations(in []Annotation) []*github.CheckRunAnnotation {
	out := make([]*github.CheckRunAnnotation, 0, len(in))
	for _, a := range in {
		end := a.EndLine
		if end < a.StartLine {
			end = a.StartLine
		}
		ann := &github.CheckRunAnnotation{
			Path: github.String(a.Path), StartLine: github.Int(a.StartLine), EndLine: github.Int(end),
			AnnotationLevel: github.String(a.Level), Message: github.String(a.Message),
		}
		if a.Title != "" {
			ann.Title = github.String(a.Title)
		}
		out = append(out, ann)
	}
	return out
}

func actions(in []Action) []*github.CheckRunAction {
	var out []*github.CheckRunAction
	for _, a := range in {
		out = append(out, &github.CheckRunAction{Label: a.Label, Description: a.Description, Identifier: a.Identifier})
	}
	return out
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return github.String(s)
}

// FailedCheckRuns lists the ids of sha's completed check runs named name
// that concluded failure (latest run of each name only, as GitHub shows).
func (c *Client) FailedCheckRuns(ctx context.Context, repo Repo, sha, name string) ([]int64, error) {
	res, _, err := c.v3.Checks.ListCheckRunsForRef(ctx, repo.Owner, repo.Name, sha, &github.ListCheckRunsOptions{
		CheckName: github.String(name), Status: github.String("completed"), ListOptions: github.ListOptions{PerPage: 100}})
	if err != nil {
		return nil, wrap(err, "list check runs %s of %s@%.7s", name, repo, sha)
	}
	var ids []int64
	for _, run := range res.CheckRuns {
		if run.GetConclusion() == "failure" {
			ids = append(ids, run.GetID())
		}
	}
	return ids, nil
}

// CheckRunInfo is a check run as GitHub reports it, whoever made it.
type CheckRunInfo struct {
	ID                     int64
	Name, HeadSHA          string
	Status, Conclusion     string
	ExternalID             string
	DetailsURL, HTMLURL    string
	AppID                  int64 // the GitHub App that made it: tugboat's own runs carry tugboat's id
	StartedAt, CompletedAt time.Time
}

// CheckRunsForRef lists the check runs on sha, every page: the latest run
// of each name (GitHub's filter=latest), as GitHub's checks tab shows them.
func (c *Client) CheckRunsForRef(ctx context.Context, repo Repo, sha string) ([]CheckRunInfo, error) {
	opts := &github.ListCheckRunsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	var out []CheckRunInfo
	for {
		res, resp, err := c.v3.Checks.ListCheckRunsForRef(ctx, repo.Owner, repo.Name, sha, opts)
		if err != nil {
			return nil, wrap(err, "list check runs of %s@%.7s", repo, sha)
		}
		for _, run := range res.CheckRuns {
			out = append(out, CheckRunInfo{
				ID: run.GetID(), Name: run.GetName(), HeadSHA: run.GetHeadSHA(),
				Status: run.GetStatus(), Conclusion: run.GetConclusion(), ExternalID: run.GetExternalID(),
				DetailsURL: run.GetDetailsURL(), HTMLURL: run.GetHTMLURL(), AppID: run.GetApp().GetID(),
				StartedAt: run.GetStartedAt().Time, CompletedAt: run.GetCompletedAt().Time,
			})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}
