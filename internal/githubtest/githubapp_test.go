package githubtest

import (
	"testing"

	"github.com/google/go-github/v60/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/shurcooL/githubv4"
)

// TestGoGitHubAppClients: the bot builds its clients with go-githubapp;
// both its REST (v3) and GraphQL (v4) installation clients work against
// the emulator, including githubv4's strict decoding of minimizeComment.
func TestGoGitHubAppClients(t *testing.T) {
	f := newFixture(t)
	n, _ := f.openFeaturePR(t)
	app := f.s.App()
	var cfg githubapp.Config
	cfg.V3APIURL = f.s.URL()
	cfg.V4APIURL = f.s.GraphQLURL()
	cfg.App.IntegrationID = app.ID
	cfg.App.PrivateKey = string(app.PrivateKeyPEM)
	cfg.App.WebhookSecret = app.WebhookSecret
	cc, err := githubapp.NewDefaultCachingClientCreator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	v3, err := cc.NewInstallationClient(f.instID)
	if err != nil {
		t.Fatal(err)
	}
	c := must[*github.IssueComment](t)(v3.Issues.CreateComment(f.ctx, "acme", "infra", n, &github.IssueComment{Body: github.String("plan v1")}))

	v4, err := cc.NewInstallationV4Client(f.instID)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		MinimizeComment struct {
			MinimizedComment struct {
				IsMinimized bool
			}
		} `graphql:"minimizeComment(input: $input)"`
	}
	input := githubv4.MinimizeCommentInput{SubjectID: githubv4.ID(c.GetNodeID()), Classifier: githubv4.ReportedContentClassifiersOutdated}
	if err := v4.Mutate(f.ctx, &m, input, nil); err != nil {
		t.Fatal(err)
	}
	if !m.MinimizeComment.MinimizedComment.IsMinimized {
		t.Errorf("isMinimized = false")
	}
	if got := f.s.Comments(testRepo, n); got[0].Minimized != "OUTDATED" {
		t.Errorf("comment minimized = %q", got[0].Minimized)
	}
}
