package web

import (
	"strings"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/kube"
)

const pinSHA = "0ddba11c0ffee0ddba11c0ffee0ddba11c0ffee0"

// pinned is prod of acme/app rolled back to pinSHA by alice (the rollback
// converged unless outcome says otherwise) and pinned there, with revert
// PR revert (0: none).
func pinned(outcome kube.Outcome, revert int) kube.ApplySetRecord {
	r := record("acme/app", "prod", outcome, pinSHA, t0)
	r.Record.Trigger = kube.TriggerRollback
	r.Record.History = []kube.Deploy{
		{Commit: pinSHA, Outcome: outcome, Time: t0, Trigger: kube.TriggerRollback},
		{Commit: sha, PR: 5, Outcome: kube.OutcomeConverged, Time: t0.Add(-time.Hour), Trigger: kube.TriggerMerge},
	}
	r.Pin = &kube.Pin{Commit: pinSHA, By: "alice", Time: t0, RevertPR: revert, Reason: "rollback --now"}
	return r
}

// A pinned environment's badge says "pinned" and the pinned commit, in a
// colour no other state has, whatever the last apply's outcome; unpinned,
// it is back to its record's state.
func TestPinnedBadge(t *testing.T) {
	for _, outcome := range []kube.Outcome{kube.OutcomeConverged, kube.OutcomeFailed} {
		w := newWorld(t)
		w.gh.repos["acme/app"] = RepoInfo{}
		w.clusters.set("k1", pinned(outcome, 12))
		w.refresh()
		status, e := w.badgeJSON(t, "/badges/acme/app/prod.json")
		if status != 200 || e.Label != "prod" || e.Message != "pinned 0ddba11" || e.Color != "blueviolet" {
			t.Errorf("%s: pinned badge = %d %+v", outcome, status, e)
		}
		svg := w.get("/badges/acme/app/prod.svg").body
		if !strings.Contains(svg, `fill="#8a2be2"`) || !strings.Contains(svg, "<title>prod: pinned 0ddba11</title>") {
			t.Errorf("%s: pinned SVG:\n%s", outcome, svg)
		}
		for st, c := range stateColors {
			if st != StatePinned && (c == "blueviolet" || colorHex[c] == "#8a2be2") {
				t.Errorf("state %s shares the pinned colour", st)
			}
		}

		unpinned := pinned(outcome, 12)
		unpinned.Pin = nil
		w.clusters.set("k1", unpinned)
		w.clock.add(time.Minute)
		w.refresh()
		if _, e := w.badgeJSON(t, "/badges/acme/app/prod.json"); e.Message != string(stateOf(unpinned.Record, kube.DriftStatus{}, nil, true))+" 0ddba11" || e.Color == "blueviolet" {
			t.Errorf("%s: unpinned badge = %+v", outcome, e)
		}
	}
}

// A pinned environment in a cluster that stops answering is unknown, like
// any other: the pin may have been lifted since.
func TestPinnedUnreachableIsUnknown(t *testing.T) {
	w := newWorld(t)
	w.gh.repos["acme/app"] = RepoInfo{}
	w.clusters.set("k1", pinned(kube.OutcomeConverged, 0))
	w.refresh()
	w.clusters.setDown("k1", true)
	w.refresh()
	if _, e := w.badgeJSON(t, "/badges/acme/app/prod.json"); e.Message != "unknown 0ddba11" || e.Color != "lightgrey" {
		t.Errorf("pinned, cluster down: badge %+v", e)
	}
}

// The status page says who pinned the environment at which commit and
// since when, links the revert pull request whose merge unpins, and the
// page of every repository shows the pin in the environment's row.
func TestPinnedStatusPage(t *testing.T) {
	w := newWorld(t)
	w.gh.repos["acme/app"] = RepoInfo{HTMLURL: "https://github.example.com/acme/app"}
	w.clusters.set("k1", pinned(kube.OutcomeConverged, 12))
	w.clock.add(10 * time.Minute)
	w.refresh()
	page := w.get("/status/acme/app").body
	for _, want := range []string{
		`<h3>prod <span class="state pinned">pinned</span></h3>`,
		`<dt>Pinned</dt><dd class="pin">pinned at 0ddba11 by alice <span class="muted">since 2026-03-04 10:00 UTC</span> · merging <a class="revert-pr" href="https://github.example.com/acme/app/pull/12">#12</a> unpins</dd>`,
		`<td>break-glass rollback</td>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	all := w.get("/status?token=admin-secret-token").body
	if want := `<span class="state pinned">pinned</span> <span class="pin">pinned at 0ddba11 by alice</span>`; !strings.Contains(all, want) {
		t.Errorf("all-repositories page lacks %q:\n%s", want, all)
	}

	// Without a revert PR the page links none; unpinned, no pin at all.
	w.clusters.set("k1", pinned(kube.OutcomeConverged, 0))
	w.clock.add(time.Minute)
	w.refresh()
	page = w.get("/status/acme/app").body
	if !strings.Contains(page, `pinned at 0ddba11 by alice <span class="muted">since`) || strings.Contains(page, "revert-pr") {
		t.Errorf("pin without a revert PR:\n%s", page)
	}
	unpinned := pinned(kube.OutcomeConverged, 12)
	unpinned.Pin = nil
	w.clusters.set("k1", unpinned)
	w.clock.add(time.Minute)
	w.refresh()
	page = w.get("/status/acme/app").body
	if strings.Contains(page, "pinned at") || strings.Contains(page, `class="state pinned"`) || !strings.Contains(page, `<span class="state converged">converged</span>`) {
		t.Errorf("unpinned page still says pinned:\n%s", page)
	}
}
