package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/internal/githubtest"
)

// planTimeout bounds the wait for a plan: GitHub users expect one within
// seconds, so a minute means something is broken.
const planTimeout = 90 * time.Second

// expectedPlan is what the bot must show for one commit of the pull request.
type expectedPlan struct {
	// Rows are summary-table lines the main comment must contain.
	Rows []string
	// Mentions must appear somewhere in the comment set.
	Mentions []string
	// Conclusions of the check runs, by name.
	Conclusions map[string]string
}

// planOfPR is the plan of the pull request as opened: staging updates the
// Secret, api-config, web and a FeatureFlag and deletes debug-toolbox;
// prod updates web and api. Staging waits for /apply; prod deploys on
// merge, and its check run waits for prod's two approvals, which nobody
// has given yet.
var planOfPR = expectedPlan{
	Rows: []string{
		"| **prod** | `prod` | +0 ~2 −0 | 0 |",
		"| **staging** | `staging` | +0 ~4 −1 | 0 |",
	},
	Mentions: []string{"ghcr.io/acme/shop-web:1.6.0", "CHECKOUT_TIMEOUT: 45s", "debug-toolbox", "replicas: 4"},
	Conclusions: map[string]string{
		"tugboat/staging": "action_required",
		"tugboat/prod":    "action_required",
	},
}

// planWithDrift is planOfPR after api was scaled by hand in staging: one
// more update, counted as drift.
var planWithDrift = expectedPlan{
	Rows: []string{
		"| **prod** | `prod` | +0 ~2 −0 | 0 |",
		"| **staging** | `staging` | +0 ~5 −1 | 0 | 1 |",
	},
	Mentions:    []string{"replicas: 3"},
	Conclusions: planOfPR.Conclusions,
}

// planAfterFollowUp: staging's api replica change is now the PR's own.
var planAfterFollowUp = expectedPlan{
	Rows: []string{
		"| **prod** | `prod` | +0 ~2 −0 | 0 |",
		"| **staging** | `staging` | +0 ~5 −1 | 0 |",
	},
	Mentions:    []string{"replicas: 2"},
	Conclusions: planOfPR.Conclusions,
}

// secretValues must never appear anywhere GitHub can show, encoded or not:
// the Secret's values on main and in the pull request.
var secretValues = []string{"staging-db-password", "sk_test_51h44b72", "sk_test_7f3e09aa", "prod-db-password", "sk_live_98f21c0d"}

// runScript drives the pull request the way a person would and checks what
// they would see at each step. It returns the first thing that is wrong.
func (s *Sandbox) runScript(ctx context.Context) error {
	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"the plan of the opened pull request", func(ctx context.Context) error {
			_, err := s.waitForPlan(ctx, planOfPR)
			return err
		}},
		{"after drift, /plan staging re-plans staging, editing the comment in place", s.checkReplan},
		{"a read-only user's /plan is refused with an explanation", s.checkReadOnlyPlan},
		{"a push gets a new plan; the old one is minimized", s.checkPush},
		{"carol approves: prod's check still waits for a second approval", s.checkFirstApproval},
		{"bob's /apply staging: staging converges at web 1.6.0", s.checkApplyStaging},
		{"alice approves and merges: prod converges at web 1.5.0 with four api replicas", s.checkMergeDeploysProd},
		{"the pull request page shows the apply statuses, Deployments and result comments", s.checkAppliedPage},
		{"prod's api scaled by hand: a drift issue opens, the badge and status page say drifted; scaled back: it closes, converged again", s.checkDrift},
		{"alice's /promote staging prod opens the promotion pull request, planned", s.checkPromotion},
		{"no Secret value anywhere on GitHub", s.checkNoSecrets},
	}
	if err := s.contractFailures(); err != nil {
		return fmt.Errorf("starting up: %w", err)
	}
	for _, st := range steps {
		t := time.Now()
		if err := st.run(ctx); err != nil {
			return fmt.Errorf("%s: %w", st.name, err)
		}
		// A request or response GitHub would not accept is a defect even
		// when the bot retried its way past the emulator's 500.
		if err := s.contractFailures(); err != nil {
			return fmt.Errorf("%s: %w", st.name, err)
		}
		s.p.printf("ok   %s (%s)", st.name, since(t))
	}
	return nil
}

// contractFailures is an error listing every request, response or webhook
// the emulator found not to match GitHub's API description, or nil.
func (s *Sandbox) contractFailures() error {
	fs := s.GitHub.ContractFailures()
	if len(fs) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d GitHub contract failure(s) (details in %s):", len(fs), filepath.Join(s.opts.Dir, "github.log"))
	for i, f := range fs {
		if i == 5 {
			fmt.Fprintf(&b, "\n  … and %d more", len(fs)-i)
			break
		}
		fmt.Fprintf(&b, "\n  %s", head(f.String(), 600))
	}
	return errors.New(b.String())
}

// planView is a plan as the PR page shows it for one commit.
type planView struct {
	HeadSHA string
	Main    githubtest.Comment
	All     []githubtest.Comment // the comment set, main first
	Checks  map[string]githubtest.CheckRun
}

// waitForPlan waits until the head commit's check runs have completed and
// the bot's comment set for it is posted, then checks them against want.
func (s *Sandbox) waitForPlan(ctx context.Context, want expectedPlan) (planView, error) {
	var v planView
	var problem error
	err := poll(ctx, planTimeout, func() bool {
		v, problem = s.currentPlan(want)
		return problem == nil
	})
	if err != nil {
		return v, fmt.Errorf("%w; last seen: %v (bot log: %s)", err, problem, s.BotLog)
	}
	return v, nil
}

// currentPlan reads the plan for the pull request's head as it stands and
// says what does not (yet) match want.
func (s *Sandbox) currentPlan(want expectedPlan) (planView, error) {
	pr := s.GitHub.PR(repoName, s.PR)
	v := planView{HeadSHA: pr.HeadSHA, Checks: map[string]githubtest.CheckRun{}}
	for _, c := range s.GitHub.CheckRuns(repoName, pr.HeadSHA) {
		v.Checks[c.Name] = c // later runs of a name replace earlier ones
	}
	for name, conclusion := range want.Conclusions {
		c, ok := v.Checks[name]
		switch {
		case !ok:
			return v, fmt.Errorf("no check run %s on %s", name, comments.ShortSHA(pr.HeadSHA))
		case c.Status != "completed":
			return v, fmt.Errorf("check run %s is %s", name, c.Status)
		case c.Conclusion != conclusion:
			return v, fmt.Errorf("check run %s concluded %s (want %s): %s", name, c.Conclusion, conclusion, c.Title)
		}
	}
	planned := map[string]bool{pr.HeadSHA: true, pr.MergeCommitSHA: true}
	for _, c := range s.GitHub.Comments(repoName, s.PR) {
		m, ok := comments.ParseMarker(c.Body)
		if !ok || c.Author != s.GitHub.Bot().Login || c.Minimized != "" || !planned[m.SHA] {
			continue
		}
		if m.Part == 1 {
			v.Main = c
		}
		v.All = append(v.All, c)
	}
	if v.Main.ID == 0 {
		return v, fmt.Errorf("no plan comment for %s yet", comments.ShortSHA(pr.HeadSHA))
	}
	for _, row := range want.Rows {
		if !strings.Contains(v.Main.Body, row) {
			return v, fmt.Errorf("plan comment lacks the summary row %q:\n%s", row, head(v.Main.Body, 1200))
		}
	}
	all := ""
	for _, c := range v.All {
		all += c.Body
	}
	for _, m := range want.Mentions {
		if !strings.Contains(all, m) {
			return v, fmt.Errorf("plan comment does not mention %q", m)
		}
	}
	return v, nil
}

// checkReplan makes staging drift (someone scales api by hand), then
// carol's `/plan staging` must re-plan staging only and edit the plan
// comment of this commit in place, now showing the drift.
func (s *Sandbox) checkReplan(ctx context.Context) error {
	before, err := s.currentPlan(planOfPR)
	if err != nil {
		return err
	}
	prodRuns := countRuns("tugboat/prod", s.GitHub.CheckRuns(repoName, before.HeadSHA))
	scale := []byte(`{"spec":{"replicas":3}}`)
	if _, err := s.Clusters["staging"].Client().AppsV1().Deployments("shop-staging").
		Patch(ctx, "api", types.MergePatchType, scale, metav1.PatchOptions{FieldManager: "kubectl-scale"}); err != nil {
		return fmt.Errorf("scale api in staging by hand: %w", err)
	}
	id, err := s.comment("carol", "/plan staging")
	if err != nil {
		return err
	}
	if err := poll(ctx, planTimeout, func() bool { return hasReaction(s.GitHub.Comments(repoName, s.PR), id, "eyes") }); err != nil {
		return fmt.Errorf("no eyes reaction on carol's /plan: %w", err)
	}
	after, err := s.waitForPlan(ctx, planWithDrift)
	switch {
	case err != nil:
		return err
	case after.Main.ID != before.Main.ID:
		return fmt.Errorf("a new comment %d was posted instead of editing %d", after.Main.ID, before.Main.ID)
	case !after.Main.UpdatedAt.After(before.Main.UpdatedAt):
		return fmt.Errorf("comment %d was not edited", after.Main.ID)
	}
	if n := countRuns("tugboat/prod", s.GitHub.CheckRuns(repoName, after.HeadSHA)); n != prodRuns {
		return fmt.Errorf("/plan staging re-planned prod too (%d check runs, was %d)", n, prodRuns)
	}
	return nil
}

func countRuns(name string, runs []githubtest.CheckRun) int {
	n := 0
	for _, r := range runs {
		if r.Name == name {
			n++
		}
	}
	return n
}

func (s *Sandbox) checkReadOnlyPlan(ctx context.Context) error {
	before := len(s.GitHub.Comments(repoName, s.PR))
	if _, err := s.comment("dave", "/plan"); err != nil {
		return err
	}
	return poll(ctx, planTimeout, func() bool {
		cs := s.GitHub.Comments(repoName, s.PR)
		for _, c := range cs[min(before, len(cs)):] {
			if c.Author == s.GitHub.Bot().Login {
				if _, isPlan := comments.ParseMarker(c.Body); !isPlan && strings.Contains(c.Body, "/plan") {
					return true
				}
			}
		}
		return false
	})
}

func (s *Sandbox) checkPush(ctx context.Context) error {
	before, err := s.currentPlan(planWithDrift)
	if err != nil {
		return err
	}
	res, err := s.push("")
	if err != nil {
		return err
	}
	s.p.printf("     pushed %s: %s", comments.ShortSHA(res.SHA), res.Message)
	after, err := s.waitForPlan(ctx, planAfterFollowUp)
	if err != nil {
		return err
	}
	if after.HeadSHA != res.SHA {
		return fmt.Errorf("planned %s, pushed %s", comments.ShortSHA(after.HeadSHA), comments.ShortSHA(res.SHA))
	}
	for _, c := range s.GitHub.Comments(repoName, s.PR) {
		if c.ID == before.Main.ID && c.Minimized != "OUTDATED" {
			return fmt.Errorf("the previous plan comment %d is not minimized as OUTDATED (%q)", c.ID, c.Minimized)
		}
	}
	return nil
}

// checkNoSecrets looks at everything the bot wrote: comments, check runs,
// commit statuses and Deployments, of the head and of the merge commit.
func (s *Sandbox) checkNoSecrets(context.Context) error {
	var texts []string
	for _, c := range s.GitHub.Comments(repoName, s.PR) {
		texts = append(texts, c.Body)
	}
	pr := s.GitHub.PR(repoName, s.PR)
	for _, sha := range []string{pr.HeadSHA, pr.MergeCommitSHA} {
		for _, c := range s.GitHub.CheckRuns(repoName, sha) {
			texts = append(texts, c.Title, c.Summary, c.Text)
		}
		for _, st := range s.GitHub.Statuses(repoName, sha) {
			texts = append(texts, st.Description)
		}
	}
	for _, is := range s.GitHub.Issues(repoName) {
		texts = append(texts, is.Title, is.Body)
		for _, c := range s.GitHub.Comments(repoName, is.Number) {
			texts = append(texts, c.Body)
		}
	}
	for _, st := range s.GitHub.Statuses(repoName, s.GitHub.HeadSHA(repoName, "main")) {
		texts = append(texts, st.Description)
	}
	for _, d := range s.GitHub.Deployments(repoName) {
		texts = append(texts, d.Description, fmt.Sprint(d.Payload))
		for _, st := range d.Statuses {
			texts = append(texts, st.Description)
		}
	}
	for _, t := range texts {
		for _, v := range secretValues {
			if strings.Contains(t, v) || strings.Contains(t, base64.StdEncoding.EncodeToString([]byte(v))) {
				return fmt.Errorf("Secret value %q shown on GitHub", v)
			}
		}
	}
	return nil
}

// comment posts body as login on the pull request, as the PR page's form
// does, and returns the comment's id.
func (s *Sandbox) comment(login, body string) (int64, error) {
	var id int64
	err := emulator("comment", func() { id = s.GitHub.Comment(repoName, s.PR, login, body) })
	return id, err
}

func hasReaction(cs []githubtest.Comment, id int64, content string) bool {
	for _, c := range cs {
		if c.ID != id {
			continue
		}
		for _, r := range c.Reactions {
			if r.Content == content {
				return true
			}
		}
	}
	return false
}

// poll calls ok until it returns true, the timeout passes or ctx ends.
func poll(ctx context.Context, timeout time.Duration, ok func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for !ok() {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("not within %s", timeout)
			}
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return nil
}

func head(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
