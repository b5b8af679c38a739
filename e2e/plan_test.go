package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/internal/githubtest"
)

// A PR changing both environments gets one comment set and one check run
// per environment, with the counts and conclusions each apply mode calls
// for: staging (on-comment) waits for /apply, prod (on-merge) succeeds.
func TestPROpenedPostsPlanAndChecks(t *testing.T) {
	w := newWorld(t, options{})
	n, sha := w.openPR("green", map[string]string{
		"deploy/staging/app.yaml":   configMap("app", "color", "green"),
		"deploy/staging/extra.yaml": configMap("extra", "k", "v"),
		"deploy/prod/app.yaml":      configMap("app", "color", "green"),
	})
	checks := w.waitPlanned(sha, "staging", "prod")

	st, pr := checks["tugboat/staging"], checks["tugboat/prod"]
	if st.Conclusion != "action_required" {
		t.Errorf("staging conclusion = %q, want action_required (on-comment with changes)", st.Conclusion)
	}
	// prod deploys on merge and requires an approval nobody gave yet: its
	// run says so, so branch protection can require it.
	if pr.Conclusion != "action_required" || pr.Title != "needs 1 approval, has 0" {
		t.Errorf("prod = %s %q, want action_required naming the missing approval (on-merge)", pr.Conclusion, pr.Title)
	}
	if ids := actionIDs(pr); ids != "plan" {
		t.Errorf("prod actions = %s, want plan only: an on-merge environment has no Apply button", ids)
	}
	// Nothing exists in the clusters yet: staging creates 2, prod 1.
	if !strings.HasPrefix(st.Title, "+2 ~0 −0") || !strings.Contains(pr.Summary, "| 1 | 0 | 0 |") {
		t.Errorf("staging title %q / prod summary:\n%s\nwant 2 and 1 creates", st.Title, pr.Summary)
	}
	// external_id is each plan's digest: its form here, that it follows
	// the plan's content in TestPlanCommandEditsInPlace and
	// TestPushMinimizesPreviousSet, and that the comment shows it below.
	for _, c := range []githubtest.CheckRun{st, pr} {
		if !digestRE.MatchString(c.ExternalID) {
			t.Errorf("%s external_id = %q, want the plan's digest (sha256:<64 hex>)", c.Name, c.ExternalID)
		}
	}
	if st.ExternalID == pr.ExternalID {
		t.Errorf("staging and prod plan different changes but share external_id %q", st.ExternalID)
	}
	if ids := actionIDs(st); ids != "apply,plan" {
		t.Errorf("staging actions = %s, want apply,plan", ids)
	}
	if !strings.Contains(st.Text, "color") || !strings.Contains(st.Text, "green") {
		t.Errorf("staging check text lacks the diff:\n%s", st.Text)
	}

	set := w.planComments(n, sha)
	if len(set) != 1 {
		t.Fatalf("want one plan comment, got %d", len(set))
	}
	body := set[0].Body
	for _, want := range []string{"staging", "prod", "extra", "green", st.ExternalID, pr.ExternalID} {
		if !strings.Contains(body, want) {
			t.Errorf("plan comment lacks %q:\n%s", want, body)
		}
	}
	// Each check run's details link opens the plan comment of this PR.
	wantURL := fmt.Sprintf("%s/%s/pull/%d#issuecomment-%d", w.gh.URL(), w.repo, n, set[0].ID)
	for _, c := range []githubtest.CheckRun{st, pr} {
		if c.DetailsURL != wantURL {
			t.Errorf("%s details_url = %q, want the plan comment %q", c.Name, c.DetailsURL, wantURL)
		}
	}
}

// digestRE is the form of a plan digest.
var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// actionIDs lists a check run's action identifiers.
func actionIDs(c githubtest.CheckRun) string {
	var ids []string
	for _, a := range c.Actions {
		ids = append(ids, fmt.Sprint(a["identifier"]))
	}
	return strings.Join(ids, ",")
}

// A push minimizes the previous commit's set as OUTDATED and posts a new
// set for the new head.
func TestPushMinimizesPreviousSet(t *testing.T) {
	w := newWorld(t, options{})
	n, sha1 := w.openPR("push", map[string]string{"deploy/staging/app.yaml": configMap("app", "color", "green")})
	w.waitPlanned(sha1, "staging")
	first := w.planComments(n, sha1)
	if len(first) != 1 {
		t.Fatalf("first set: %d comments", len(first))
	}
	digest1 := w.checks(sha1)["tugboat/staging"].ExternalID
	sha2 := w.gh.Commit(w.repo, "push", map[string]string{"deploy/staging/app.yaml": configMap("app", "color", "red")}, "red")
	if digest2 := w.waitPlanned(sha2, "staging")["tugboat/staging"].ExternalID; digest2 == digest1 || !digestRE.MatchString(digest2) {
		t.Errorf("external_id after a change = %q, was %q: want a new digest", digest2, digest1)
	}
	w.waitFor("a comment set for the new commit", 30*time.Second, func() bool { return len(w.planComments(n, sha2)) == 1 })
	old := w.planComments(n, sha1)
	if len(old) != 1 || old[0].Minimized != "OUTDATED" {
		t.Errorf("previous set not minimized as OUTDATED: %+v", old)
	}
	if now := w.planComments(n, sha2)[0]; now.Minimized != "" || !strings.Contains(now.Body, "red") {
		t.Errorf("new set wrong: minimized=%q body:\n%s", now.Minimized, now.Body)
	}
}

// `/plan staging` on a commit already planned edits the set in place and
// re-plans only staging; the command gets an eyes reaction.
func TestPlanCommandEditsInPlace(t *testing.T) {
	w := newWorld(t, options{})
	n, sha := w.openPR("replan", map[string]string{
		"deploy/staging/app.yaml": configMap("app", "color", "green"),
		"deploy/prod/app.yaml":    configMap("app", "color", "green"),
	})
	w.waitPlanned(sha, "staging", "prod")
	before := w.planComments(n, sha)
	if len(before) != 1 {
		t.Fatalf("want one plan comment, got %d", len(before))
	}
	digest := w.checks(sha)["tugboat/staging"].ExternalID
	cmd := w.gh.Comment(w.repo, n, "alice", "/plan staging")
	w.waitFor("staging re-planned", 60*time.Second, func() bool {
		return w.countChecks(sha, "tugboat/staging") == 2 && w.checks(sha)["tugboat/staging"].Status == "completed"
	})
	w.gh.WaitForDeliveries()
	after := w.planComments(n, sha)
	if len(after) != 1 || after[0].ID != before[0].ID {
		t.Fatalf("set not edited in place: before %d, after %+v", before[0].ID, after)
	}
	if !strings.Contains(after[0].Body, "prod") || !strings.Contains(after[0].Body, "staging") {
		t.Errorf("edited set lost an environment:\n%s", after[0].Body)
	}
	// The same commit against the same cluster plans the same: the digest
	// is the plan's, not the run's.
	if again := w.checks(sha)["tugboat/staging"].ExternalID; again != digest {
		t.Errorf("re-planned staging external_id = %q, want the unchanged plan's digest %q", again, digest)
	}
	if got := w.countChecks(sha, "tugboat/prod"); got != 1 {
		t.Errorf("prod has %d check runs, want 1: only staging is re-planned", got)
	}
	reacted := false
	for _, r := range w.gh.Reactions(w.repo, cmd) {
		reacted = reacted || r.Content == "eyes"
	}
	if !reacted {
		t.Error("the command got no eyes reaction")
	}
}
