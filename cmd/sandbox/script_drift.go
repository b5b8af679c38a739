package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/internal/githubtest"
)

// driftInterval is the sandbox bot's drift.interval: short, so the walk
// through shows drift within seconds of a change by hand.
const driftInterval = 15 * time.Second

// driftTimeout bounds the wait for a drift round to notice a change: the
// next tick, plus planning and reporting.
const driftTimeout = 4 * driftInterval

// checkDrift changes prod by hand — api scaled down to one replica, as
// someone with a kubeconfig might during an incident — and waits for what
// the team would see: a drift issue with the diff, a failing
// tugboat/drift/prod on main's head, prod's badge orange ("drifted") and
// the status page saying so with a link to the issue; scaled back, the
// issue closes with a comment, the status succeeds, and the badge and the
// page say "converged" again.
func (s *Sandbox) checkDrift(ctx context.Context) error {
	main := s.GitHub.HeadSHA(repoName, "main")
	short := comments.ShortSHA(main)
	// Before: prod converged at main, as its README badge shows.
	if err := s.waitBadge(ctx, "prod", "converged "+short, "brightgreen"); err != nil {
		return fmt.Errorf("before any change by hand: %w", err)
	}
	if _, err := s.prodOnPage(ctx, "converged", main, "", ""); err != nil {
		return fmt.Errorf("before any change by hand: %w", err)
	}
	s.p.printf("     prod's badge: converged %s (brightgreen); status page %s: prod converged", short, s.statusURL())

	if err := s.scaleAPI(ctx, 1); err != nil {
		return err
	}
	title := "Drift in prod: 1 object differs from main@" + comments.ShortSHA(main)
	var issue githubtest.Issue
	err := poll(ctx, driftTimeout, func() bool {
		is, ok := s.driftIssue(title)
		issue = is
		return ok && is.State == "open"
	})
	if err != nil {
		return fmt.Errorf("no open issue %q after scaling api by hand: %w (bot log: %s)", title, err, s.BotLog)
	}
	for _, want := range []string{"Deployment shop-prod/api", "-  replicas: 1", "+  replicas: 4"} {
		if !strings.Contains(issue.Body, want) {
			return fmt.Errorf("drift issue #%d does not show %q:\n%s", issue.Number, want, head(issue.Body, 1500))
		}
	}
	if err := s.waitDriftStatus(ctx, main, "failure"); err != nil {
		return err
	}
	s.p.printf("     api scaled to 1 by hand: issue #%d %q, tugboat/drift/prod failure", issue.Number, issue.Title)
	if err := s.waitBadge(ctx, "prod", "drifted "+short, "orange"); err != nil {
		return err
	}
	issuePath := fmt.Sprintf("/%s/issues/%d", repoName, issue.Number)
	page, err := s.prodOnPage(ctx, "drifted", main, "1 object differs from "+short, issuePath)
	if err != nil {
		return err
	}
	s.p.printf("     prod's badge: drifted %s (orange); status page: %q, linking the issue", short, page.Drift)

	if err := s.scaleAPI(ctx, 4); err != nil {
		return err
	}
	err = poll(ctx, driftTimeout, func() bool {
		is, ok := s.driftIssue(title)
		issue = is
		return ok && is.State == "closed"
	})
	if err != nil {
		return fmt.Errorf("drift issue #%d still %s after scaling api back: %w", issue.Number, issue.State, err)
	}
	cs := s.GitHub.Comments(repoName, issue.Number)
	if len(cs) == 0 || !strings.Contains(cs[len(cs)-1].Body, "No more drift in `prod`") {
		return fmt.Errorf("drift issue #%d closed without the closing comment", issue.Number)
	}
	if err := s.waitDriftStatus(ctx, main, "success"); err != nil {
		return err
	}
	s.p.printf("     scaled back to 4: issue #%d closed, tugboat/drift/prod success", issue.Number)
	if err := s.waitBadge(ctx, "prod", "converged "+short, "brightgreen"); err != nil {
		return fmt.Errorf("after scaling back: %w", err)
	}
	if page, err = s.prodOnPage(ctx, "converged", main, "in sync", ""); err != nil {
		return fmt.Errorf("after scaling back: %w", err)
	}
	s.p.printf("     prod's badge: converged %s (brightgreen) again; status page: %q", short, page.Drift)
	return nil
}

// driftIssue finds the bot's drift issue by its title.
func (s *Sandbox) driftIssue(title string) (githubtest.Issue, bool) {
	for _, is := range s.GitHub.Issues(repoName) {
		if is.Title == title && is.Author == s.GitHub.Bot().Login && len(is.Labels) == 1 && is.Labels[0] == "tugboat/drift" {
			return is, true
		}
	}
	return githubtest.Issue{}, false
}

// waitDriftStatus waits for tugboat/drift/prod's newest state on sha.
func (s *Sandbox) waitDriftStatus(ctx context.Context, sha, state string) error {
	last := "none"
	err := poll(ctx, driftTimeout, func() bool {
		var newest *githubtest.Status
		for _, st := range s.GitHub.Statuses(repoName, sha) {
			if st.Context == "tugboat/drift/prod" && (newest == nil || st.ID > newest.ID) {
				st := st
				newest = &st
			}
		}
		if newest != nil {
			last = newest.State + " " + newest.Description
		}
		return newest != nil && newest.State == state
	})
	if err != nil {
		return fmt.Errorf("tugboat/drift/prod on %s is %s, want %s: %w", comments.ShortSHA(sha), last, state, err)
	}
	return nil
}

// scaleAPI scales prod's api by hand, as `kubectl scale` does.
func (s *Sandbox) scaleAPI(ctx context.Context, replicas int) error {
	patch := fmt.Sprintf(`{"spec": {"replicas": %d}}`, replicas)
	_, err := s.Clusters["prod"].Client().AppsV1().Deployments("shop-prod").Patch(ctx, "api", types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("scale prod's api to %d: %w", replicas, err)
	}
	return nil
}
