package gh

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// Statuses gives the latest status per context, every page, with who set
// it; SetStatus clips a long description the way GitHub counts it.
func TestStatusesLatestPerContextWithCreator(t *testing.T) {
	s, c, repo := emulated(t)
	ctx := context.Background()
	sha := s.HeadSHA("acme/infra", "main")
	if err := c.SetStatus(ctx, repo, sha, Status{Context: "tugboat/apply/staging", State: "pending", Description: "applying"}); err != nil {
		t.Fatal(err)
	}
	// Another system's statuses, enough to need a second page.
	for i := range 120 {
		s.SetStatus("acme/infra", sha, fmt.Sprintf("ci/%d", i%3), []string{"pending", "success", "failure"}[i%3], "ci-bot")
	}
	long := strings.Repeat("é", 139) + "→ and more"
	if err := c.SetStatus(ctx, repo, sha, Status{Context: "tugboat/apply/staging", State: "success", Description: long, TargetURL: "https://tugboat.example/run/1"}); err != nil {
		t.Fatal(err)
	}
	got, err := c.Statuses(ctx, repo, sha)
	if err != nil {
		t.Fatal(err)
	}
	byCtx := map[string]Status{}
	for _, st := range got {
		if _, dup := byCtx[st.Context]; dup {
			t.Errorf("context %s listed twice", st.Context)
		}
		byCtx[st.Context] = st
	}
	if len(got) != 4 {
		t.Fatalf("%d statuses, want 4 (latest per context)", len(got))
	}
	own := byCtx["tugboat/apply/staging"]
	if own.State != "success" || own.Creator != s.Bot().Login || own.TargetURL != "https://tugboat.example/run/1" || own.UpdatedAt.IsZero() {
		t.Errorf("tugboat's status = %+v", own)
	}
	if utf8.RuneCountInString(own.Description) != 140 || !strings.HasSuffix(own.Description, "é…") {
		t.Errorf("description clipped to %d characters: %q", utf8.RuneCountInString(own.Description), own.Description)
	}
	for i, want := range []string{"pending", "success", "failure"} {
		if st := byCtx[fmt.Sprintf("ci/%d", i)]; st.State != want || st.Creator != "ci-bot" {
			t.Errorf("ci/%d = %+v, want %s by ci-bot", i, st, want)
		}
	}
	if got[0].Context != "tugboat/apply/staging" {
		t.Errorf("newest first: first is %s", got[0].Context)
	}
}

// CheckRunsForRef lists every page, the latest run per name, with the app
// that made each: tugboat's own runs are told from a CI's by app id.
func TestCheckRunsForRefWithApps(t *testing.T) {
	s, c, repo := emulated(t)
	ctx := context.Background()
	sha := s.HeadSHA("acme/infra", "main")
	first, err := c.CreateCheckRun(ctx, repo, CheckRun{Name: "tugboat/staging", HeadSHA: sha, Status: "completed", Conclusion: "failure", Title: "t", Summary: "s"})
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.CreateCheckRun(ctx, repo, CheckRun{Name: "tugboat/staging", HeadSHA: sha, Status: "in_progress", ExternalID: "digest", DetailsURL: "https://tugboat.example/d"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 105 {
		s.AddCheckRun("acme/infra", sha, fmt.Sprintf("build-%03d", i), "success", "ci")
	}
	runs, err := c.CheckRunsForRef(ctx, repo, sha)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 106 {
		t.Fatalf("%d runs, want 106 (every page, latest per name)", len(runs))
	}
	var own []CheckRunInfo
	ciApp := int64(0)
	for _, r := range runs {
		if r.AppID == s.App().ID {
			own = append(own, r)
		} else {
			ciApp = r.AppID
		}
	}
	if len(own) != 1 || own[0].ID != second || own[0].ID == first || own[0].Status != "in_progress" || own[0].ExternalID != "digest" ||
		own[0].DetailsURL != "https://tugboat.example/d" || own[0].HTMLURL == "" || own[0].HeadSHA != sha || own[0].StartedAt.IsZero() {
		t.Errorf("tugboat's runs = %+v", own)
	}
	if ciApp == 0 || ciApp == s.App().ID {
		t.Errorf("the CI's app id = %d", ciApp)
	}
}
