package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/internal/githubtest"
	"github.com/tugboatops/tugboat/kube"
)

// uniqueRepo is prefix with a random suffix: each run records into an
// ApplySet of its own in the shared cluster (-count=N included).
func uniqueRepo(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// historyWorld is a repository on the GitHub emulator with the app
// installed, and a server config that reaches both it and the cluster.
type historyWorld struct {
	s      *githubtest.Server
	client *gh.Client // the app's installation
	repo   gh.Repo
	cfg    string
}

func newHistoryWorld(t *testing.T, full string) *historyWorld {
	t.Helper()
	s := githubtest.New(t, githubtest.WithLogf(func(string, ...any) {}))
	s.CreateRepo(full, githubtest.RepoOptions{Files: map[string]string{"deploy/dev/app.yaml": "kind: ConfigMap\n"}})
	owner, name, _ := strings.Cut(full, "/")
	id := s.CreateInstallation(owner)
	for _, u := range []string{"alice", "bob", "carol", "erin"} {
		s.AddUser(u)
		s.SetPermission(full, u, "write")
	}
	app := s.App()
	cc := githubapp.NewClientCreator(s.URL()+"/api/v3/", s.URL()+"/api/graphql", app.ID, app.PrivateKeyPEM,
		githubapp.WithClientMiddleware(gh.Middleware(gh.RetryPolicy{Backoff: 10 * time.Millisecond}, gh.NewMetrics(prometheus.NewRegistry()))))
	c, err := (&gh.Factory{Creator: cc, Download: http.DefaultClient}).Installation(id)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"app.pem":    string(app.PrivateKeyPEM),
		"digest.key": "history-digest-key-history-dige",
		"server.yaml": fmt.Sprintf("github:\n  web_url: %[1]s\n  v3_api_url: %[1]s/api/v3/\n  v4_api_url: %[1]s/api/graphql\n  app:\n"+
			"    integration_id: %[2]d\n    webhook_secret: %[3]s\n    private_key_file: app.pem\n"+
			"digest_key_file: digest.key\nclusters:\n  local:\n    kubeconfig: %[4]s\n", s.URL(), app.ID, app.WebhookSecret, cluster.Kubeconfig()),
	})
	return &historyWorld{s: s, client: c, repo: gh.Repo{Owner: owner, Name: name}, cfg: filepath.Join(dir, "server.yaml")}
}

// mergedPR opens a PR from branch (one commit on it) and merges it as
// merger; it returns the PR's number, head and the merge commit.
func (w *historyWorld) mergedPR(t *testing.T, branch, author, merger string) (int, string, string) {
	t.Helper()
	full := w.repo.FullName()
	w.s.Branch(full, branch, "main")
	head := w.s.Commit(full, branch, map[string]string{"deploy/dev/" + branch + ".yaml": "kind: ConfigMap\n"}, "change on "+branch)
	n := w.s.OpenPR(full, githubtest.PROptions{Head: branch, Title: "change " + branch, Author: author})
	return n, head, w.s.Merge(full, n, merger)
}

// deployment mirrors a deploy as tugboat does: ref, payload, description.
func (w *historyWorld) deployment(t *testing.T, ref, commit string, pr int, desc, state string) {
	t.Helper()
	ctx := context.Background()
	id, err := w.client.CreateDeployment(ctx, w.repo, gh.Deployment{Ref: ref, Environment: "dev", Description: desc,
		Payload: map[string]any{"commit": commit, "pull_request": pr}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.client.SetDeploymentStatus(ctx, w.repo, id, gh.DeploymentStatus{State: state}); err != nil {
		t.Fatal(err)
	}
}

// record adds deploys (oldest first) to the environment's record in the
// cluster, as the applier writes them.
func recordDeploys(t *testing.T, set kube.ApplySet, recs ...kube.Record) *kube.Cluster {
	t.Helper()
	ctx := context.Background()
	c, err := kube.NewCluster("local", cluster.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		inv, err := kube.ReadInventory(ctx, c, set)
		if err != nil {
			t.Fatal(err)
		}
		if inv == nil {
			inv = &kube.Inventory{}
		}
		kube.SetRecord(inv, r)
		if err := kube.WriteInventory(ctx, c, set, *inv); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// bot history with the server config that reaches GitHub lists each
// deploy with who made it (the person the Deployment names, or the PR's
// merger), marks promotions (the PR's branch is tugboat's promotion
// branch), break-glass rollbacks and revert PRs, and the pin.
func TestBotHistoryWithGitHub(t *testing.T) {
	full := uniqueRepo("acme/e2e-history")
	w := newHistoryWorld(t, full)
	repo, _ := setup(t, "e2e-bot-history")
	feature, featureHead, featureMerge := w.mergedPR(t, "feature", "alice", "bob")
	promo, _, promoMerge := w.mergedPR(t, "tugboat/promote-stage-to-dev", "tugboat[bot]", "carol")
	revert, _, revertMerge := w.mergedPR(t, fmt.Sprintf("revert-%d-feature", feature), "erin", "bob")

	at := time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)
	step := func(i int) time.Time { return at.Add(time.Duration(i) * time.Hour) }
	testMerge := featureHead[:20] + "0000000000000000feed" // the /apply's test merge commit
	w.deployment(t, featureHead, testMerge, feature, fmt.Sprintf("/apply by alice on #%d at %s: +1 ~0 −0", feature, testMerge[:7]), "success")
	w.deployment(t, featureMerge, featureMerge, feature, fmt.Sprintf("merge of #%d at %s", feature, featureMerge[:7]), "success")
	w.deployment(t, promoMerge, promoMerge, promo, fmt.Sprintf("merge of #%d at %s", promo, promoMerge[:7]), "success")
	w.deployment(t, featureMerge, featureMerge, 0, "break-glass rollback by erin at "+featureMerge[:7], "success")
	w.deployment(t, revertMerge, revertMerge, revert, fmt.Sprintf("merge of #%d at %s", revert, revertMerge[:7]), "failure")
	set := kube.ApplySet{Repo: full, Env: "dev"}
	c := recordDeploys(t, set,
		kube.Record{Commit: testMerge, PR: feature, Head: featureHead, Outcome: kube.OutcomeConverged, Time: step(0), Trigger: kube.TriggerApply},
		kube.Record{Commit: featureMerge, PR: feature, Outcome: kube.OutcomeConverged, Time: step(1), Trigger: kube.TriggerMerge},
		kube.Record{Commit: promoMerge, PR: promo, Outcome: kube.OutcomeConverged, Time: step(2), Trigger: kube.TriggerMerge},
		kube.Record{Commit: featureMerge, Outcome: kube.OutcomeConverged, Time: step(3), Trigger: kube.TriggerRollback},
		kube.Record{Commit: revertMerge, PR: revert, Outcome: kube.OutcomeFailed, Time: step(4), Trigger: kube.TriggerMerge},
	)
	if err := kube.SetPin(context.Background(), c, set, kube.Pin{Commit: featureMerge, By: "erin", Time: step(3), RevertPR: revert}); err != nil {
		t.Fatal(err)
	}

	out, stderr, code := botRun(t, "history", "--repo", repo, "--config", w.cfg, "--env", "dev", "--repo-name", full)
	if code != 0 {
		t.Fatalf("history: exit %d\n%s\n%s", code, out, stderr)
	}
	pr := func(n int) string { return fmt.Sprintf("#%d", n) }
	want := fmt.Sprintf("dev (cluster local): pinned at %s by erin since 2026-03-04T12:00:00Z (merging #%d unpins)\n", featureMerge[:7], revert) +
		"  WHEN                  COMMIT   PR  WHO    HOW       RESULT     MARKS\n" +
		fmt.Sprintf("  2026-03-04T13:00:00Z  %s  %-2s  bob    merge     failed     rollback (revert of #%d)\n", revertMerge[:7], pr(revert), feature) +
		fmt.Sprintf("  2026-03-04T12:00:00Z  %s  -   erin   rollback  converged  rollback, pinned here\n", featureMerge[:7]) +
		fmt.Sprintf("  2026-03-04T11:00:00Z  %s  %-2s  carol  merge     converged  promotion\n", promoMerge[:7], pr(promo)) +
		fmt.Sprintf("  2026-03-04T10:00:00Z  %s  %-2s  bob    merge     converged\n", featureMerge[:7], pr(feature)) +
		fmt.Sprintf("  2026-03-04T09:00:00Z  %s  %-2s  alice  apply     converged\n", testMerge[:7], pr(feature))
	if out != want {
		t.Errorf("history:\n%s\nwant:\n%s\nstderr:\n%s", out, want, stderr)
	}
}

// Without GitHub settings in --config, bot history lists what the record
// has, WHO unknown and no promotion marks, and says what WHO needs; a
// GitHub App section that does not work says why, and still lists.
func TestBotHistoryWithoutGitHub(t *testing.T) {
	full := uniqueRepo("acme/e2e-history-local")
	repo, cfg := setup(t, "e2e-bot-history-local")
	recordDeploys(t, kube.ApplySet{Repo: full, Env: "dev"},
		kube.Record{Commit: strings.Repeat("a1", 20), PR: 4, Outcome: kube.OutcomeConverged, Time: time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC), Trigger: kube.TriggerMerge})
	out, stderr, code := botRun(t, "history", "--repo", repo, "--config", cfg, "--env", "dev", "--repo-name", full)
	want := "dev (cluster local)\n" +
		"  WHEN                  COMMIT   PR  WHO  HOW    RESULT     MARKS\n" +
		"  2026-03-04T09:00:00Z  a1a1a1a  #4  ?    merge  converged\n" +
		"\nWHO and promotion marks need GitHub: give --config the server config `bot serve` runs with (its github: section, with the app's integration_id and private key).\n"
	if code != 0 || out != want {
		t.Errorf("history without GitHub: exit %d\n%s\nwant:\n%s\nstderr:\n%s", code, out, want, stderr)
	}

	// A GitHub section whose key does not load: the record is listed, and
	// the note says what is wrong with the config.
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(filepath.Dir(cfg), "bad.yaml")
	writeTree(t, filepath.Dir(cfg), map[string]string{"bad.yaml": string(data) + "github:\n  app:\n    integration_id: 7\n    webhook_secret: s\n    private_key_file: missing.pem\n"})
	out, stderr, code = botRun(t, "history", "--repo", repo, "--config", bad, "--env", "dev", "--repo-name", full)
	if code != 0 || !strings.Contains(out, "  2026-03-04T09:00:00Z  a1a1a1a  #4  ?    merge  converged\n") ||
		!strings.Contains(out, "WHO and promotion marks need GitHub: --config's GitHub App settings do not load: ") || !strings.Contains(out, "private_key_file") {
		t.Errorf("history with a broken GitHub section: exit %d\n%s\nstderr:\n%s", code, out, stderr)
	}
}
