package web

import (
	"strings"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/kube"
)

// A cluster that stops answering keeps its environments on the pages,
// shown unknown with the reason and since when; its answer back restores
// them. No badge claims "converged" for a cluster nobody can see.
func TestUnreachableClusterShowsUnknown(t *testing.T) {
	w := newWorld(t)
	w.gh.repos["acme/app"] = RepoInfo{}
	w.clusters.set("k1", record("acme/app", "staging", kube.OutcomeConverged, sha, t0))
	w.clusters.set("k2", record("acme/app", "prod", kube.OutcomeConverged, sha, t0))
	w.refresh()
	w.clusters.setDown("k1", true)
	w.clock.add(time.Minute)
	w.refresh()
	w.clock.add(time.Minute)
	w.refresh()

	if _, e := w.badgeJSON(t, "/badges/acme/app/staging.json"); e.Message != "unknown abc1234" || e.Color != "lightgrey" {
		t.Errorf("staging while k1 is down: %+v", e)
	}
	if _, e := w.badgeJSON(t, "/badges/acme/app/prod.json"); e.Message != "converged abc1234" {
		t.Errorf("prod (k2 answers): %+v", e)
	}
	page := w.get("/status/acme/app").body
	if want := "cluster k1 has not answered since 2026-03-04T10:01:00Z"; !strings.Contains(page, want) {
		t.Errorf("page lacks %q", want)
	}
	if strings.Contains(page, "connection refused") {
		t.Errorf("the page shows the cluster's error (internal addresses)")
	}

	w.clusters.setDown("k1", false)
	w.refresh()
	if _, e := w.badgeJSON(t, "/badges/acme/app/staging.json"); e.Message != "converged abc1234" {
		t.Errorf("staging after k1 came back: %+v", e)
	}
}

// Visibility is read from GitHub once per TTL, not per refresh; a
// repository GitHub cannot answer for is private until it can.
func TestVisibilityCachedAndFailsClosed(t *testing.T) {
	w := newWorld(t)
	w.gh.fail = true
	w.gh.repos["acme/app"] = RepoInfo{}
	w.clusters.set("k1", record("acme/app", "staging", kube.OutcomeConverged, sha, t0))
	w.refresh()
	if r := w.get("/badges/acme/app/staging.svg"); r.status != 404 {
		t.Errorf("visibility unknown: badge without a token answered %d, want 404", r.status)
	}
	if r := w.get("/badges/acme/app/staging.svg?token=" + BadgeToken(w.key, "acme/app", "staging")); r.status != 200 {
		t.Errorf("visibility unknown: badge with its token answered %d", r.status)
	}
	// The first failed read is tried again at the next refresh (the App
	// may have been installed a moment after the records appeared); later
	// ones back off to a minute, so a repository the App is not installed
	// on does not cost a request every refresh.
	calls := w.gh.calls.Load()
	w.clock.add(DefaultRefreshInterval)
	w.refresh()
	if n := w.gh.calls.Load() - calls; n != 1 {
		t.Errorf("the refresh after a first failure made %d GitHub calls, want 1", n)
	}
	calls = w.gh.calls.Load()
	for range 20 { // five minutes of refreshes
		w.clock.add(DefaultRefreshInterval)
		w.refresh()
	}
	// Visibility and Deployments each at most once a minute once backed
	// off: 10 reads, where reading at every refresh would be 40.
	if n := w.gh.calls.Load() - calls; n > 12 {
		t.Errorf("20 refreshes while GitHub fails made %d calls, want at most 12 (backing off to one a minute each)", n)
	}
	w.gh.mu.Lock()
	w.gh.fail = false
	w.gh.mu.Unlock()
	w.clock.add(time.Minute)
	w.refresh()
	if r := w.get("/badges/acme/app/staging.svg"); r.status != 200 {
		t.Fatalf("public repository: %d", r.status)
	}
	before := w.gh.calls.Load()
	for range 3 {
		w.clock.add(DefaultRefreshInterval)
		w.refresh()
	}
	if n := w.gh.calls.Load() - before; n != 0 {
		t.Errorf("three refreshes with nothing changed made %d GitHub calls, want 0", n)
	}
	// Made private: honoured after the TTL.
	w.gh.mu.Lock()
	w.gh.repos["acme/app"] = RepoInfo{Private: true}
	w.gh.mu.Unlock()
	w.clock.add(DefaultVisibilityTTL)
	w.refresh()
	if r := w.get("/badges/acme/app/staging.svg"); r.status != 404 {
		t.Errorf("made private: badge without a token answered %d, want 404", r.status)
	}
}

// Deployments are read again when the record changes, not every refresh.
func TestDeploymentsReadOnRecordChange(t *testing.T) {
	w := newWorld(t)
	w.gh.repos["acme/app"] = RepoInfo{}
	w.clusters.set("k1", record("acme/app", "staging", kube.OutcomeInProgress, sha, t0))
	w.refresh()
	w.refresh()
	if n := w.gh.depsRead.Load(); n != 1 {
		t.Errorf("two refreshes of one record read Deployments %d times, want 1", n)
	}
	w.clusters.set("k1", record("acme/app", "staging", kube.OutcomeConverged, sha, t0.Add(time.Minute)))
	w.refresh()
	if n := w.gh.depsRead.Load(); n != 2 {
		t.Errorf("after the record changed: %d reads, want 2", n)
	}
}

// Two parents of one repository's environment (it moved cluster): the
// newest record is the one shown.
func TestMovedEnvironmentNewestRecordWins(t *testing.T) {
	w := newWorld(t)
	w.gh.repos["acme/app"] = RepoInfo{}
	w.clusters.set("old", record("acme/app", "prod", kube.OutcomeFailed, "1111111aaaa", t0))
	w.clusters.set("new", record("acme/app", "prod", kube.OutcomeConverged, sha, t0.Add(time.Hour)))
	w.refresh()
	if _, e := w.badgeJSON(t, "/badges/acme/app/prod.json"); e.Message != "converged abc1234" {
		t.Errorf("badge = %+v, want the newer record's", e)
	}
}
