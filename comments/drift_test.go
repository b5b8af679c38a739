package comments

import (
	"strings"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/planner"
)

// driftReport is prod drifted from main@4f2a9c1: web's image changed by
// hand, a ConfigMap deleted, a Secret value changed (masked).
func driftReport() DriftReport {
	p := &planner.Plan{Env: "prod", Cluster: "prod-us1", Commit: headSHA, Digest: digestA, Changes: []planner.Change{
		{Ref: deployment("apps", "web"), Action: planner.ActionUpdate, Diff: webImageDiff, Source: planner.Location{File: "deploy/prod/web.yaml", Line: 3}},
		{Ref: configMap("apps", "web-flags"), Action: planner.ActionCreate, Diff: newConfigMapDiff},
		{Ref: planner.ObjectRef{Version: "v1", Kind: "Secret", Namespace: "apps", Name: "web-db"}, Action: planner.ActionUpdate, Diff: secretDiff},
		{Ref: configMap("apps", "same"), Action: planner.ActionUnchanged},
	}}
	return DriftReport{Repo: "acme/platform", RepoURL: "https://github.com/acme/platform", Env: "prod", Cluster: "prod-us1",
		Mode: ApplyOnMerge, Commit: headSHA, Ref: "main", Plan: p, Checked: time.Date(2026, 12, 2, 4, 30, 0, 0, time.UTC)}
}

func TestGoldenDriftIssue(t *testing.T) {
	r := driftReport()
	if got, want := DriftIssueTitle(r), "Drift in prod: 3 objects differ from main@4f2a9c1"; got != want {
		t.Errorf("title = %q, want %q", got, want)
	}
	parts := DriftIssue(r)
	golden(t, "drift-issue", parts)
	if len(parts) != 1 {
		t.Fatalf("%d parts, want 1", len(parts))
	}
	h := renderMarkdown(t, parts[0])
	if len(h.diffs) != 3 {
		t.Errorf("%d diffs, want 3 (the unchanged object left out)", len(h.diffs))
	}
	for _, want := range []string{"web-flags", "ghcr.io/acme/web:1.5.0", "*** (changed)", "https://github.com/acme/platform/commit/" + headSHA, "2026-12-02 04:30:00 UTC"} {
		if !strings.Contains(parts[0], want) {
			t.Errorf("body lacks %q", want)
		}
	}
	if strings.Contains(parts[0], "not from this pull request") {
		t.Error("a drift issue speaks of a pull request")
	}
	m, ok := ParseDriftMarker(parts[0])
	if !ok || m != (DriftMarker{Env: "prod", Part: 1}) {
		t.Errorf("marker = %+v %v", m, ok)
	}

	r.Mode, r.Healing = ApplyAuto, "The last heal failed; the next is tried after 04:34 UTC."
	auto := DriftIssue(r)[0]
	if !strings.Contains(auto, "apply: auto") || !strings.Contains(auto, "next is tried after 04:34 UTC") {
		t.Errorf("auto body lacks the heal notes:\n%s", auto)
	}
	one := driftReport()
	one.Plan.Changes = one.Plan.Changes[:1]
	if got, want := DriftIssueTitle(one), "Drift in prod: 1 object differs from main@4f2a9c1"; got != want {
		t.Errorf("title = %q, want %q", got, want)
	}
}

// A long drift is split between objects over the body and comments, each
// part valid Markdown with its marker, every object shown once.
func TestDriftIssueSplits(t *testing.T) {
	huge := hugePlan(400).Envs[1].Plan
	r := driftReport()
	r.Plan = huge
	parts := DriftIssue(r)
	if len(parts) < 2 {
		t.Fatalf("%d parts, want a split", len(parts))
	}
	seen := 0
	for i, p := range parts {
		if len(p) > MaxCommentChars {
			t.Errorf("part %d has %d bytes", i+1, len(p))
		}
		m, ok := ParseDriftMarker(p)
		if !ok || m.Env != "prod" || m.Part != i+1 {
			t.Errorf("part %d marker = %+v %v", i+1, m, ok)
		}
		seen += len(renderMarkdown(t, p).diffs)
	}
	if seen != 400 {
		t.Errorf("%d objects shown, want 400", seen)
	}
	r.Plan = hugePlan(4000).Envs[1].Plan
	parts = DriftIssue(r)
	if len(parts) != MaxCommentParts || !strings.Contains(parts[len(parts)-1], "too long for 10 parts") {
		t.Errorf("%d parts; the last does not say what was left out", len(parts))
	}
}

func TestParseDriftMarkerRefusesLookalikes(t *testing.T) {
	for _, body := range []string{
		"<!-- tugboat:drift env=prod part=0 -->",
		"<!-- tugboat:drift env=Prod part=1 -->",
		"<!-- tugboat:drift env= part=1 -->",
		"<!-- tugboat:drift env=prod part=1 --> trailing",
		"text\n<!-- tugboat:drift env=prod part=1 -->",
		"<!-- tugboat:plan sha=abc part=1 -->",
	} {
		if m, ok := ParseDriftMarker(body); ok {
			t.Errorf("%q parsed as %+v", body, m)
		}
	}
	if m, ok := ParseDriftMarker(DriftMarker{Env: "eu-west-1", Part: 3}.String() + "\nbody"); !ok || m.Env != "eu-west-1" || m.Part != 3 {
		t.Errorf("round trip: %+v %v", m, ok)
	}
}

func TestDriftStatusAndNotes(t *testing.T) {
	if s, d := DriftStatus(0); s != StateSuccess || d != "in sync" {
		t.Errorf("in sync: %s %q", s, d)
	}
	if s, d := DriftStatus(3); s != StateFailure || d != "3 objects drifted" {
		t.Errorf("drifted: %s %q", s, d)
	}
	for _, c := range []struct{ got, want string }{
		{DriftGoneComment("prod", "main", headSHA, false), "The cluster matches it again; the environment is in sync with `main@4f2a9c1`. Closing"},
		{DriftGoneComment("prod", "main", headSHA, true), "tugboat healed it"},
		{DriftBackComment(driftReport()), "**The drift is back** in `prod`: 3 objects differ from `main@4f2a9c1`."},
		{DriftUnknownComment("prod", "the recorded commit `zzz` cannot be read"), "could not be checked**: the recorded commit \\`zzz\\` cannot be read"},
	} {
		if !strings.Contains(c.got, c.want) {
			t.Errorf("%q lacks %q", c.got, c.want)
		}
		renderMarkdown(t, c.got)
	}
}

func TestHealNotes(t *testing.T) {
	at := time.Date(2026, 12, 2, 4, 35, 10, 0, time.UTC)
	if got := HealWaiting(at); !strings.Contains(got, "waits until 04:35:10 UTC") {
		t.Errorf("HealWaiting = %q", got)
	}
	if got := HealInProgress("main@4f2a9c1"); !strings.Contains(got, "re-applies main@4f2a9c1") {
		t.Errorf("HealInProgress = %q", got)
	}
	got := HealNotDoneComment("prod", "acme/platform#12 holds the lock of prod")
	if !strings.Contains(got, "`prod` was not healed**: acme/platform#12 holds the lock") {
		t.Errorf("HealNotDoneComment = %q", got)
	}
	renderMarkdown(t, got)
}
