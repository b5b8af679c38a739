package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/tugboatops/tugboat/internal/githubtest"
)

// promotionTitle is what /promote staging prod opens once the pull request
// merged: staging runs web 1.6.0 and api 2.8.0-rc.1, prod web 1.5.0 and
// api 2.7.0.
const promotionTitle = "Promote staging → prod: shop-web 1.6.0, shop-api 2.8.0-rc.1"

var openedPR = regexp.MustCompile(`Opened #(\d+) to promote \*\*staging\*\* to \*\*prod\*\*`)

// checkPromotion: alice's /promote staging prod on the merged pull request
// opens the promotion pull request — prod's kustomization gets staging's
// image tags, nothing else changes — and tugboat plans prod on it.
func (s *Sandbox) checkPromotion(ctx context.Context) error {
	id, err := s.comment("alice", "/promote staging prod")
	if err != nil {
		return err
	}
	var n int
	if err := poll(ctx, planTimeout, func() bool {
		for _, c := range s.GitHub.Comments(repoName, s.PR) {
			if m := openedPR.FindStringSubmatch(c.Body); c.ID > id && m != nil {
				n, _ = strconv.Atoi(m[1])
			}
		}
		return n != 0
	}); err != nil {
		return fmt.Errorf("no promotion pull request: %w%s", err, s.repliesAfter(id))
	}
	pr := s.GitHub.PR(repoName, n)
	if pr.Title != promotionTitle || pr.HeadRef != "tugboat/promote-staging-to-prod" {
		return fmt.Errorf("#%d is %q from %s, want %q from tugboat/promote-staging-to-prod", n, pr.Title, pr.HeadRef, promotionTitle)
	}
	const file = "deploy/overlays/prod/kustomization.yaml"
	got, err := s.GitHub.FileAt(repoName, pr.HeadSHA, file)
	if err != nil {
		return err
	}
	main, err := s.GitHub.FileAt(repoName, "main", file)
	if err != nil {
		return err
	}
	want := strings.Replace(strings.Replace(main, "newTag: \"1.5.0\"", "newTag: \"1.6.0\"", 1), "newTag: \"2.7.0\"", "newTag: \"2.8.0-rc.1\"", 1)
	if got != want {
		return fmt.Errorf("#%d's %s is not main's with staging's two tags:\n%s", n, file, got)
	}
	run, err := s.waitForRun(ctx, pr.HeadSHA, "tugboat/prod", func(githubtest.CheckRun) bool { return true })
	if err != nil {
		return fmt.Errorf("prod's plan on #%d: %w", n, err)
	}
	if !strings.Contains(run.Text, "shop-web:1.6.0") {
		return fmt.Errorf("prod's plan on #%d does not show web 1.6.0: %q", n, run.Title)
	}
	s.p.printf("     #%d %q: prod's kustomization takes staging's tags; tugboat/prod: %s", n, pr.Title, run.Title)
	return nil
}
