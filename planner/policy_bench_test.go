package planner

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/kube"
)

// benchPolicies are five policies of the kinds teams write, every one
// matching the benchmark's Deployments (and two its ConfigMaps), every one
// passing, so each expression is evaluated in full on every object.
const benchPolicies = `version: 1
policies:
  - name: image-pinned
    match: [{group: apps, kinds: [Deployment]}]
    validations:
      - expression: "object.spec.template.spec.containers.all(c, !c.image.endsWith(':latest'))"
  - name: registry
    match: [{group: apps, kinds: [Deployment]}]
    validations:
      - expression: "object.spec.template.spec.containers.all(c, c.image.matches('^registry\\\\.example\\\\.com/'))"
  - name: app-label
    validations:
      - expression: "object.kind != 'Deployment' || (has(object.metadata.labels) && 'app' in object.metadata.labels)"
  - name: ports-named-range
    match: [{group: apps, kinds: [Deployment]}]
    validations:
      - expression: "object.spec.template.spec.containers.all(c, !has(c.ports) || c.ports.all(p, p.containerPort > 1024))"
  - name: config-size
    match: [{kinds: [ConfigMap]}]
    validations:
      - expression: "!has(object.data) || object.data.all(k, size(object.data[k]) < 65536)"
environments:
  bench: {cluster: bench, path: .}
`

// BenchmarkPolicies1000 measures what five policies add to a plan of
// 1,000 objects (500 changed): the same plan with and without them,
// alternated, medians compared (target: ≤ 10 % more), with the raw
// dry-run floor of the same run for scale.
func BenchmarkPolicies1000(b *testing.B) {
	for range b.N {
		benchPolicies1000(b)
	}
}

func benchPolicies1000(b *testing.B) {
	reg := kube.NewRegistry(nil)
	if err := reg.AddConfig("bench", cluster.RESTConfig()); err != nil {
		b.Fatal(err)
	}
	kc, err := reg.Cluster("bench")
	if err != nil {
		b.Fatal(err)
	}
	const n = 1000
	ns := fmt.Sprintf("bench-pol-%d", time.Now().UnixNano()%1e6)
	set := kube.ApplySet{Repo: "acme/bench-policies", Env: "bench"}
	benchDeploy(b, kc, set, benchObjects(ns, n, false))
	desired := benchObjects(ns, n, true)
	dir := b.TempDir()
	writeObjects(b, dir, desired)
	cfg, err := config.ParseRepo([]byte(benchPolicies), ".tugboat.yaml")
	if err != nil {
		b.Fatal(err)
	}
	plain := config.Environment{Name: "bench", Cluster: "bench", Path: "."}
	gated := plain
	gated.Policies = cfg.Policies
	p := benchPlanner(b, reg)
	without := benchPlan(b, p, Input{Repo: os.DirFS(dir), RepoName: set.Repo, Env: plain}, n/2)
	with := benchPlan(b, p, Input{Repo: os.DirFS(dir), RepoName: set.Repo, Env: gated}, n/2)
	fl := newFloor(b, kc, cluster.RESTConfig(), set, desired)
	floorRun := func() error { return fl.Run(32) }
	for _, f := range []func() error{without, with, floorRun} {
		timeIt(b, f)
	}
	var tw, tg, tf []time.Duration
	for range benchRuns {
		tw = append(tw, timeIt(b, without))
		tg = append(tg, timeIt(b, with))
		tf = append(tf, timeIt(b, floorRun))
	}
	mw, mg, mf := median(tw), median(tg), median(tf)
	b.ReportMetric(mw.Seconds(), "plan-s")
	b.ReportMetric(mg.Seconds(), "plan-policies-s")
	b.ReportMetric(mg.Seconds()/mw.Seconds(), "policies/plan")
	b.ReportMetric(mg.Seconds()/mf.Seconds(), "policies/floor")
	b.Logf("\n| contender (1,000 objects, 5 policies) | median | ratio |\n|---|---|---|\n"+
		"| plan without policies | %.2fs | 1.00 |\n| plan with 5 policies | %.2fs | %.3f (target ≤ 1.10) |\n| raw dry-run floor | %.2fs | plan with policies / floor = %.2f |",
		mw.Seconds(), mg.Seconds(), mg.Seconds()/mw.Seconds(), mf.Seconds(), mg.Seconds()/mf.Seconds())
	if r := mg.Seconds() / mw.Seconds(); r > 1.10 {
		// Reported, not failed: on a shared machine one noisy run can
		// exceed it; the table is what the issue asks for.
		b.Logf("policies add %.0f%% to the plan, over the 10%% target", (r-1)*100)
	}
}
