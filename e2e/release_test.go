package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugboatops/tugboat/internal/kubetest"
)

// releaseFiles: staging and prod are Kustomize overlays of one Deployment
// (image web), both deployed on merge; prod is promoted from staging and
// erin may break glass on it.
func releaseFiles(ns string) map[string]string {
	kust := func(tag string) string {
		return "resources: [deploy.yaml, app.yaml]\nimages:\n  # the front end\n  - name: web\n    newTag: \"" + tag + "\"\n"
	}
	deploy := `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "web:0.1"}]
`
	return map[string]string{
		".tugboat.yaml": fmt.Sprintf(`version: 1
environments:
  staging:
    cluster: staging
    path: deploy/staging
    namespace: %[1]s
  prod:
    cluster: prod
    path: deploy/prod
    namespace: %[1]s
    promote: {from: staging, images: true}
    break_glass: [erin]
`, ns),
		"deploy/staging/kustomization.yaml": kust("1.5.0"),
		"deploy/staging/deploy.yaml":        deploy,
		"deploy/staging/app.yaml":           configMap("app", "color", "blue"),
		"deploy/prod/kustomization.yaml":    kust("1.5.0"),
		"deploy/prod/deploy.yaml":           deploy,
		"deploy/prod/app.yaml":              configMap("app", "color", "blue"),
	}
}

// image is the web Deployment's image in a cluster ("" when absent).
func (w *world) image(c *kubetest.Cluster) string {
	d, err := c.Client().AppsV1().Deployments(w.ns).Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		return ""
	}
	return d.Spec.Template.Spec.Containers[0].Image
}

// mergeApproved approves PR n as carol and merges it as alice.
func (w *world) mergeApproved(n int) string {
	w.t.Helper()
	w.gh.Approve(w.repo, n, "carol")
	return w.gh.Merge(w.repo, n, "alice")
}

// nextBotComment waits for a new bot comment on n after before of them.
func (w *world) nextBotComment(n, before int, what string) string {
	w.t.Helper()
	w.waitFor(what, 2*time.Minute, func() bool { return len(w.botComments(n)) > before })
	cs := w.botComments(n)
	return cs[len(cs)-1].Body
}

// The release flow end to end: staging deploys 1.6.0 → /promote staging
// prod opens a promotion PR with the kustomization edit and prod's plan →
// approved and merged, prod converges at 1.6.0; a bad release merges →
// /rollback prod --now (refused for a writer, done by erin) re-applies the
// previous deploy, pins prod and opens the revert; a merge while pinned
// deploys nothing and says so; /unpin, then merging the revert deploys it.
func TestPromoteAndRollBack(t *testing.T) {
	w := newWorld(t, options{nsFiles: releaseFiles, extraConfig: "web:\n  refresh: 1s\n"})
	for _, u := range []string{"carol", "erin"} {
		w.gh.SetPermission(w.repo, u, "write")
	}

	// 1.6.0 to staging.
	n1, sha1 := w.openPR("stage-1.6.0", map[string]string{"deploy/staging/kustomization.yaml": strings.Replace(releaseFiles(w.ns)["deploy/staging/kustomization.yaml"], "1.5.0", "1.6.0", 1)})
	w.waitPlanned(sha1, "staging")
	m1 := w.mergeApproved(n1)
	w.waitStatus(m1, "tugboat/apply/staging", "success", 3*time.Minute)
	if got := w.image(staging); got != "web:1.6.0" {
		t.Fatalf("staging image = %q, want web:1.6.0", got)
	}

	// /promote staging prod.
	before := len(w.botComments(n1))
	w.gh.Comment(w.repo, n1, "alice", "/promote staging prod")
	reply := w.nextBotComment(n1, before, "the promotion reply")
	promo := n1 + 1
	if reply != fmt.Sprintf("Opened #%d to promote **staging** to **prod**.\n", promo) {
		t.Fatalf("promotion reply = %q", reply)
	}
	pr := w.gh.PR(w.repo, promo)
	if pr.HeadRef != "tugboat/promote-staging-to-prod" || pr.Title != "Promote staging → prod: web 1.6.0" || pr.Author != w.gh.Bot().Login {
		t.Fatalf("promotion PR: %s %q by %s", pr.HeadRef, pr.Title, pr.Author)
	}
	checks := w.waitPlanned(pr.HeadSHA, "prod")
	if run := checks["tugboat/prod"]; !strings.Contains(run.Text, "web:1.6.0") || !strings.Contains(run.Text, "web:1.5.0") {
		t.Errorf("prod's plan on the promotion does not show 1.5.0 → 1.6.0:\n%s", run.Text)
	}
	if _, ok := checks["tugboat/staging"]; ok {
		t.Errorf("the promotion touches prod only, yet staging got a check run")
	}
	m2 := w.mergeApproved(promo)
	w.waitStatus(m2, "tugboat/apply/prod", "success", 3*time.Minute)
	if got := w.image(prod); got != "web:1.6.0" {
		t.Fatalf("prod image after the promotion = %q, want web:1.6.0", got)
	}
	promoted := false
	for _, d := range w.gh.Deployments(w.repo) {
		if d.SHA == m2 && d.Environment == "prod" {
			promoted = strings.Contains(d.Description, fmt.Sprintf("merge of #%d (promotion)", promo))
		}
	}
	if !promoted {
		t.Errorf("prod's Deployment of the promotion's merge does not say it is a promotion: %+v", w.gh.Deployments(w.repo))
	}

	// A bad release reaches prod.
	n3, sha3 := w.openPR("bad", map[string]string{"deploy/prod/kustomization.yaml": strings.Replace(releaseFiles(w.ns)["deploy/prod/kustomization.yaml"], "1.5.0", "6.6.6", 1)})
	w.waitPlanned(sha3, "prod")
	m3 := w.mergeApproved(n3)
	w.waitStatus(m3, "tugboat/apply/prod", "success", 3*time.Minute)
	if got := w.image(prod); got != "web:6.6.6" {
		t.Fatalf("prod image after the bad release = %q", got)
	}

	// Break glass: carol may not, erin may.
	before = len(w.botComments(n3))
	w.gh.Comment(w.repo, n3, "carol", "/rollback prod --now")
	if reply := w.nextBotComment(n3, before, "the refusal"); !strings.Contains(reply, "not rolled back") || !strings.Contains(reply, "`erin`") {
		t.Fatalf("carol's break glass: %q", reply)
	}
	if got := w.image(prod); got != "web:6.6.6" {
		t.Fatalf("a refused break glass wrote: image %q", got)
	}
	before = len(w.botComments(n3))
	w.gh.Comment(w.repo, n3, "erin", "/rollback prod --now")
	w.waitFor("the break-glass reply", 3*time.Minute, func() bool {
		return strings.Contains(allBodies(w.botComments(n3)[before:]), "Rolled **prod** back")
	})
	if got := w.image(prod); got != "web:1.6.0" {
		t.Fatalf("prod image after the break glass = %q, want web:1.6.0", got)
	}
	revert := n3 + 1
	body := allBodies(w.botComments(n3)[before:])
	if !strings.Contains(body, "Rolled **prod** back to `"+m2[:7]+"`") || !strings.Contains(body, fmt.Sprintf("Opened #%d to revert the change", revert)) {
		t.Fatalf("break-glass reply:\n%s", body)
	}
	if rv := w.gh.PR(w.repo, revert); rv.Title != `Revert "Change bad"` {
		t.Fatalf("revert PR title %q", rv.Title)
	}

	// The badge and the status page say prod is pinned, by whom, and
	// which revert unpins it.
	badge := w.bot.url + "/badges/" + w.repo + "/prod.json"
	var got struct{ Message, Color string }
	w.waitFor("prod's badge to say pinned", 30*time.Second, func() bool {
		r := httpGet(t, badge)
		return r.status == 200 && json.Unmarshal([]byte(r.body), &got) == nil && got.Message == "pinned "+m2[:7]
	})
	if got.Color != "blueviolet" {
		t.Errorf("pinned badge colour %q", got.Color)
	}
	if page := httpGet(t, w.bot.url+"/status/"+w.repo).body; !strings.Contains(page, `<span class="state pinned">pinned</span>`) ||
		!strings.Contains(page, "pinned at "+m2[:7]+" by erin") || !strings.Contains(page, fmt.Sprintf(`/pull/%d">#%d</a> unpins`, revert, revert)) {
		t.Errorf("status page while pinned:\n%s", page)
	}

	// A merge while pinned deploys nothing, and says so: before the merge
	// on its plan run, after it on its status.
	n5, sha5 := w.openPR("while-pinned", map[string]string{"deploy/prod/app.yaml": configMap("app", "color", "green")})
	if run := w.waitPlanned(sha5, "prod")["tugboat/prod"]; !strings.Contains(run.Title, "pinned at "+m2[:7]+" by erin: merging will not deploy it") {
		t.Errorf("prod's plan run while pinned: %q", run.Title)
	}
	m5 := w.mergeApproved(n5)
	w.waitStatus(m5, "tugboat/apply/prod", "failure", 2*time.Minute)
	if st := newestStatus(w, m5, "tugboat/apply/prod"); !strings.Contains(st, "pinned at "+m2[:7]+" by erin") {
		t.Errorf("status while pinned = %q", st)
	}
	if got := w.configMapValue(prod, "app", "color"); got != "blue" {
		t.Fatalf("a merge while pinned deployed: color %q", got)
	}

	// /unpin, then the revert merges and deploys.
	before = len(w.botComments(n3))
	w.gh.Comment(w.repo, n3, "alice", "/unpin prod")
	if reply := w.nextBotComment(n3, before, "the unpin reply"); !strings.Contains(reply, "Unpinned **prod**") {
		t.Fatalf("unpin reply %q", reply)
	}
	w.waitFor("prod's badge to leave pinned", 30*time.Second, func() bool {
		r := httpGet(t, badge)
		return r.status == 200 && json.Unmarshal([]byte(r.body), &got) == nil && !strings.HasPrefix(got.Message, "pinned")
	})
	rvHead := w.gh.PR(w.repo, revert).HeadSHA
	w.waitPlanned(rvHead, "prod")
	m6 := w.mergeApproved(revert)
	w.waitStatus(m6, "tugboat/apply/prod", "success", 3*time.Minute)
	if got, color := w.image(prod), w.configMapValue(prod, "app", "color"); got != "web:1.6.0" || color != "green" {
		t.Fatalf("prod after the revert merged: image %q color %q, want web:1.6.0 (before the bad release) and green", got, color)
	}
}

func newestStatus(w *world, sha, context string) string {
	var id int64
	var desc string
	for _, s := range w.gh.Statuses(w.repo, sha) {
		if s.Context == context && s.ID > id {
			id, desc = s.ID, s.Description
		}
	}
	return desc
}
