package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/internal/githubtest"
)

// The second half of --script: the pull request is approved, applied to
// staging, merged and deployed to prod, the way the people of the sandbox
// would do it, and each step is checked where its effect shows — the
// pull request page and the clusters.

// Bounds on the waits. An apply reports within the environment's `wait:`
// (staging 3m, prod 5m in examples/.tugboat.yaml) plus a few seconds, so
// a wait longer than that means the bot never reported.
const (
	applyTimeout  = 4 * time.Minute
	deployTimeout = 6 * time.Minute
	lockTimeout   = time.Minute
)

const (
	webImageStaging = "ghcr.io/acme/shop-web:1.6.0"
	webImageProd    = "ghcr.io/acme/shop-web:1.5.0"
)

// checkFirstApproval: carol approves. Staging needs one approval, prod two:
// the review re-plans prod, whose check run now says what is still missing.
func (s *Sandbox) checkFirstApproval(ctx context.Context) error {
	if err := s.approve("carol"); err != nil {
		return err
	}
	head := s.GitHub.PR(repoName, s.PR).HeadSHA
	run, err := s.waitForRun(ctx, head, "tugboat/prod", func(r githubtest.CheckRun) bool {
		return r.Conclusion == "action_required" && strings.Contains(r.Title, "needs 2 approvals, has 1")
	})
	if err != nil {
		return fmt.Errorf("tugboat/prod after carol's approval: %w", err)
	}
	s.p.printf("     tugboat/prod: %s — %s", run.Conclusion, run.Title)
	return nil
}

// checkApplyStaging: bob, the author, comments `/apply staging`. staging
// must converge with the pull request's content (web 1.6.0, the debug
// toolbox pruned), locked to the pull request, reported as a commit
// status, a check run, a Deployment and a result comment.
func (s *Sandbox) checkApplyStaging(ctx context.Context) error {
	head := s.GitHub.PR(repoName, s.PR).HeadSHA
	id, err := s.comment("bob", "/apply staging")
	if err != nil {
		return err
	}
	s.p.printf("     bob: /apply staging on %s", comments.ShortSHA(head))
	st, err := s.waitStatus(ctx, head, "tugboat/apply/staging", applyTimeout)
	if err != nil {
		return fmt.Errorf("%w%s", err, s.repliesAfter(id))
	}
	if run := s.latestRun(head, "tugboat/staging"); run.Conclusion != "success" {
		return fmt.Errorf("the newest tugboat/staging run is %s %s (%q), want a successful apply run", run.Status, run.Conclusion, run.Title)
	}
	if err := s.deployedTo("staging", head); err != nil {
		return err
	}
	if err := s.resultComment("## ✅ staging: applied, converged in"); err != nil {
		return err
	}
	if err := s.rolledOut(ctx, "staging", "shop-staging", "web", webImageStaging, 0); err != nil {
		return err
	}
	if err := s.gone(ctx, "staging", "shop-staging", "debug-toolbox"); err != nil {
		return err
	}
	holder, err := s.lockHolder(ctx, "staging")
	if err != nil {
		return err
	}
	if want := fmt.Sprintf("%s#%d", repoName, s.PR); holder != want {
		return fmt.Errorf("staging's lock is held by %q, want %s", holder, want)
	}
	s.p.printf("     staging: %s; web runs %s, debug-toolbox pruned, locked by #%d", st.Description, webImageStaging, s.PR)
	return nil
}

// checkMergeDeploysProd: alice approves — prod's check turns green, so
// branch protection lets the merge through — and merges. The push deploys
// prod (after staging, which already runs this content) and frees
// staging's lock.
func (s *Sandbox) checkMergeDeploysProd(ctx context.Context) error {
	if err := s.approve("alice"); err != nil {
		return err
	}
	head := s.GitHub.PR(repoName, s.PR).HeadSHA
	if _, err := s.waitForRun(ctx, head, "tugboat/prod", func(r githubtest.CheckRun) bool { return r.Conclusion == "success" }); err != nil {
		return fmt.Errorf("tugboat/prod after alice's approval: %w", err)
	}
	var merged string
	if err := emulator("merge", func() { merged = s.GitHub.Merge(repoName, s.PR, "alice") }); err != nil {
		return err
	}
	s.p.printf("     alice merged #%d as %s", s.PR, comments.ShortSHA(merged))
	st, err := s.waitStatus(ctx, merged, "tugboat/apply/prod", deployTimeout)
	if err != nil {
		return fmt.Errorf("%w%s", err, s.repliesAfter(0))
	}
	if err := s.deployedTo("prod", merged); err != nil {
		return err
	}
	if err := s.resultComment("## ✅ prod: deployed, converged in"); err != nil {
		return err
	}
	if err := s.rolledOut(ctx, "prod", "shop-prod", "web", webImageProd, 0); err != nil {
		return err
	}
	if err := s.rolledOut(ctx, "prod", "shop-prod", "api", "", 4); err != nil {
		return err
	}
	if err := poll(ctx, lockTimeout, func() bool { h, err := s.lockHolder(ctx, "staging"); return err == nil && h == "" }); err != nil {
		h, _ := s.lockHolder(ctx, "staging")
		return fmt.Errorf("staging's lock is still held by %q after the merge: %w", h, err)
	}
	s.p.printf("     prod: %s; web runs %s, api has 4 ready replicas; staging unlocked", st.Description, webImageProd)
	return nil
}

// checkAppliedPage reads the pull request page as a person would after
// the merge (TestSandbox reads it in Chromium as well).
func (s *Sandbox) checkAppliedPage(ctx context.Context) error {
	dom, err := s.fetchPage(ctx)
	if err != nil {
		return err
	}
	if problems := appliedPageProblems(dom); len(problems) > 0 {
		return fmt.Errorf("%s: %s", s.PRURL(), strings.Join(problems, "; "))
	}
	return nil
}

// approve submits an approving review as login.
func (s *Sandbox) approve(login string) error {
	if err := emulator(login+" approves", func() { s.GitHub.Approve(repoName, s.PR, login) }); err != nil {
		return err
	}
	s.p.printf("     %s approved", login)
	return nil
}

// latestRun is the newest check run of name on sha: GitHub shows the newest.
func (s *Sandbox) latestRun(sha, name string) githubtest.CheckRun {
	var out githubtest.CheckRun
	for _, r := range s.GitHub.CheckRuns(repoName, sha) {
		if r.Name == name {
			out = r
		}
	}
	return out
}

// waitForRun waits until the newest completed run of name on sha
// satisfies ok.
func (s *Sandbox) waitForRun(ctx context.Context, sha, name string, ok func(githubtest.CheckRun) bool) (githubtest.CheckRun, error) {
	var run githubtest.CheckRun
	err := poll(ctx, planTimeout, func() bool {
		run = s.latestRun(sha, name)
		return run.Status == "completed" && ok(run)
	})
	if err != nil {
		return run, fmt.Errorf("%w; newest run: %s %s %q", err, run.Status, run.Conclusion, run.Title)
	}
	return run, nil
}

// waitStatus waits for the newest commit status of context on sha to leave
// pending: success returns it; anything else is an error with its
// description.
func (s *Sandbox) waitStatus(ctx context.Context, sha, context string, timeout time.Duration) (githubtest.Status, error) {
	var st githubtest.Status
	var found bool
	err := poll(ctx, timeout, func() bool {
		for _, x := range s.GitHub.Statuses(repoName, sha) {
			if x.Context == context && (!found || x.ID > st.ID) {
				st, found = x, true
			}
		}
		return found && st.State != "pending"
	})
	switch {
	case err != nil && found:
		return st, fmt.Errorf("status %s on %s still %s (%q): %w", context, comments.ShortSHA(sha), st.State, st.Description, err)
	case err != nil:
		return st, fmt.Errorf("no status %s on %s: %w", context, comments.ShortSHA(sha), err)
	case st.State != "success":
		return st, fmt.Errorf("status %s on %s is %s: %s", context, comments.ShortSHA(sha), st.State, st.Description)
	}
	return st, nil
}

// repliesAfter quotes the bot's last comment after comment id (0: any),
// which says why when an apply or deploy did not happen.
func (s *Sandbox) repliesAfter(id int64) string {
	var last *githubtest.Comment
	for _, c := range s.GitHub.Comments(repoName, s.PR) {
		if c.ID > id && c.Author == s.GitHub.Bot().Login {
			last = &c
		}
	}
	if last == nil {
		return "; the bot did not reply"
	}
	return "; the bot's last comment:\n" + head(last.Body, 1500)
}

// deployedTo checks the newest GitHub Deployment to env: made for sha,
// succeeded, and production exactly for prod.
func (s *Sandbox) deployedTo(env, sha string) error {
	var d *githubtest.Deployment
	for _, x := range s.GitHub.Deployments(repoName) {
		if x.Environment == env {
			d = &x
		}
	}
	switch {
	case d == nil:
		return fmt.Errorf("no GitHub Deployment to %s", env)
	case d.SHA != sha:
		return fmt.Errorf("the Deployment to %s is of %s, want %s", env, comments.ShortSHA(d.SHA), comments.ShortSHA(sha))
	case d.State() != "success":
		return fmt.Errorf("the Deployment to %s is %q, want success", env, d.State())
	case d.Production != (env == "prod"):
		return fmt.Errorf("the Deployment to %s has production_environment %v (examples/.tugboat.yaml marks only prod)", env, d.Production)
	}
	return nil
}

// resultComment checks the bot posted a result comment starting with title.
func (s *Sandbox) resultComment(title string) error {
	for _, c := range s.GitHub.Comments(repoName, s.PR) {
		if c.Author == s.GitHub.Bot().Login && strings.HasPrefix(c.Body, title) {
			return nil
		}
	}
	return errors.New("no result comment " + title + " …" + s.repliesAfter(0))
}
