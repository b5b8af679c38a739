package comments

import (
	"errors"
	"fmt"
	"time"

	"github.com/tugboatops/tugboat/applier"
	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/planner"
)

// Fixtures for the apply result tests: what the applier returns for the
// everyday outcomes, with messages and logs as a cluster writes them —
// including characters that must not break a comment and "***", the mark
// the planner leaves where it scrubbed a Secret value.

const (
	checkRunURL = "https://github.com/acme/platform/runs/7001"
	repoURL     = "https://github.com/acme/platform"
)

func secretRef(ns, name string) planner.ObjectRef {
	return planner.ObjectRef{Version: "v1", Kind: "Secret", Namespace: ns, Name: name}
}

// appliedPlan is the staging plan of twoEnvPlan plus a prune and an
// ownership-only change.
func appliedPlan() *planner.Plan {
	p := twoEnvPlan().Envs[0].Plan
	p.Changes = append(p.Changes,
		planner.Change{Ref: configMap("apps", "old-flags"), Action: planner.ActionDelete, FromPR: true,
			Diff: "--- live\n+++ desired\n@@ -1,3 +0,0 @@\n-apiVersion: v1\n-kind: ConfigMap\n-metadata:\n"},
		planner.Change{Ref: configMap("apps", "legacy-settings"), Action: "adopt", FromPR: true},
	)
	return p
}

func baseReport() ApplyReport {
	return ApplyReport{
		Repo: "acme/platform", RepoURL: repoURL, PR: 42, Env: "staging", Cluster: "staging-eu1",
		Actor: "alice", Trigger: TriggerComment, Commit: mergeSHA, Head: headSHA,
		Took: 14200 * time.Millisecond, CheckRunURL: checkRunURL,
	}
}

// convergedReport is a clean apply: created, updated, adopted, pruned, a
// field taken over from kubectl edit.
func convergedReport() ApplyReport {
	r := baseReport()
	r.Result = &applier.Result{
		Plan: appliedPlan(),
		Writes: []applier.ObjectWrite{
			{Ref: configMap("apps", "web-flags"), Action: planner.ActionCreate, Outcome: applier.WriteApplied},
			{Ref: deployment("apps", "web"), Action: planner.ActionUpdate, Outcome: applier.WriteApplied},
			{Ref: secretRef("apps", "web-db"), Action: planner.ActionUpdate, Outcome: applier.WriteApplied},
			{Ref: configMap("apps", "legacy-settings"), Action: "adopt", Outcome: applier.WriteApplied},
		},
		Takeovers: []applier.Takeover{{Ref: deployment("apps", "web"), Field: ".spec.replicas", Manager: "kubectl-edit"}},
		Prunes:    []applier.ObjectPrune{{Ref: configMap("apps", "old-flags"), Outcome: applier.Pruned}},
		Wait: &applier.WaitResult{Converged: true, Duration: 9300 * time.Millisecond, Objects: []applier.ObjectStatus{
			{Ref: configMap("apps", "web-flags"), Status: applier.StatusCurrent},
			{Ref: deployment("apps", "web"), Status: applier.StatusCurrent, Message: "Deployment is available. Replicas: 2"},
		}},
		Outcome:  kube.OutcomeConverged,
		PlanTime: 1200 * time.Millisecond, ApplyTime: 3400 * time.Millisecond, PruneTime: 300 * time.Millisecond,
		WaitTime: 9300 * time.Millisecond,
	}
	return r
}

// crashLogs are the last lines of a crashing container: Markdown, HTML, a
// mention, a fence and a scrubbed Secret among them.
var crashLogs = []string{
	"2024-05-02T10:14:07Z INFO starting web 1.5.0",
	"2024-05-02T10:14:07Z INFO connecting to postgres://web:***@db.apps:5432/web",
	"2024-05-02T10:14:08Z ERROR config: key `db.pool` | missing — see <https://docs.acme.io> or ask @acme/sre",
	"```",
	"</details><script>alert(1)</script>",
	"panic: **invalid configuration**",
}

// crashloopReport is an apply whose Deployment crashloops and whose worker
// cannot be scheduled, started with the Apply button.
func crashloopReport() ApplyReport {
	r := convergedReport()
	r.Trigger, r.Actor = TriggerButton, "bob"
	res := r.Result
	res.Outcome = kube.OutcomeFailed
	res.Takeovers = nil
	res.Wait = &applier.WaitResult{Duration: 41 * time.Second, Objects: []applier.ObjectStatus{
		{Ref: configMap("apps", "web-flags"), Status: applier.StatusCurrent},
		{Ref: deployment("apps", "web"), Status: applier.StatusFailed,
			Message: "Deployment rollout: 0 of 2 updated replicas are available",
			Diagnosis: &applier.Diagnosis{
				Pods: []applier.PodState{{
					Name: "web-7d9f8c6b5-x2x9q", Phase: "Running",
					Containers: []applier.ContainerState{
						{Name: "migrate", Init: true, Ready: true, State: "terminated", Reason: "Completed", ExitCode: 0},
						{Name: "web", Restarts: 5, State: "waiting", Reason: "CrashLoopBackOff",
							Message:         "back-off 2m40s restarting failed container=web pod=web-7d9f8c6b5-x2x9q_apps(5c1e)",
							LastTermination: "Error (exit code 1)", Logs: crashLogs},
						{Name: "proxy", Ready: false, State: "running", LogsError: "container \"proxy\" in pod is waiting to start"},
					},
				}},
				PodsOmitted: 1,
				Events: []applier.Event{
					{Type: "Normal", Reason: "Pulled", Object: "Pod/web-7d9f8c6b5-x2x9q", Message: "Container image \"ghcr.io/acme/web:1.5.0\" already present on machine", Count: 6},
					{Type: "Warning", Reason: "Failed", Object: "Pod/web-7d9f8c6b5-x2x9q", Message: "Error: secret \"web-db\": key DB_PASSWORD=*** is not valid for <b>env</b>", Count: 1},
					{Type: "Warning", Reason: "BackOff", Object: "Pod/web-7d9f8c6b5-x2x9q", Message: "Back-off restarting failed container web in pod web-7d9f8c6b5-x2x9q_apps(5c1e)", Count: 12},
				},
			}},
		{Ref: deployment("apps", "worker"), Status: applier.StatusInProgress,
			Message: "Deployment rollout: 1 of 2 updated replicas are available",
			Diagnosis: &applier.Diagnosis{
				Pods: []applier.PodState{{Name: "worker-5f6d7-abcde", Phase: "Pending",
					Message: "Unschedulable: 0/3 nodes are available: 3 Insufficient cpu."}},
				Events: []applier.Event{{Type: "Warning", Reason: "FailedScheduling", Object: "Pod/worker-5f6d7-abcde",
					Message: "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available", Count: 3}},
			}},
	}}
	r.Err = errors.New("not converged: 1 object(s) failed: Deployment/apps/web: Deployment rollout: 0 of 2 updated replicas are available")
	res.WaitTime = 41 * time.Second
	r.Took = 47 * time.Second
	return r
}

// incompleteReport is a merge deploy that lost its API server part-way.
func incompleteReport() ApplyReport {
	r := convergedReport()
	r.Trigger, r.Actor, r.Head, r.Commit = TriggerMerge, "", "", mergeSHA
	res := r.Result
	res.Outcome, res.Wait, res.Takeovers = kube.OutcomeFailed, nil, nil
	res.Writes[1].Outcome = applier.WriteUnknown
	res.Writes[1].Error = "Patch \"https://10.0.0.7:6443/apis/apps/v1/namespaces/apps/deployments/web\": unexpected EOF"
	res.Writes[2].Outcome, res.Writes[3].Outcome = applier.WriteNotAttempted, applier.WriteNotAttempted
	res.Prunes = nil
	r.Err = &applier.IncompleteError{
		Applied:    []planner.ObjectRef{configMap("apps", "web-flags")},
		NotApplied: []planner.ObjectRef{secretRef("apps", "web-db"), configMap("apps", "legacy-settings"), configMap("apps", "old-flags")},
		Unknown:    []planner.ObjectRef{deployment("apps", "web")},
		Cause:      errors.New("dial tcp 10.0.0.7:6443: connect: connection refused"),
	}
	return r
}

// refusedReport is an apply the applier refused before writing: err is
// one of its refusal errors.
func refusedReport(err error) ApplyReport {
	r := baseReport()
	p := appliedPlan()
	// On a changed plan the applier's result carries the new plan.
	var changed *applier.PlanChangedError
	if errors.As(err, &changed) {
		p = changed.Plan
	}
	r.Result = &applier.Result{Plan: p, Outcome: kube.OutcomeFailed, PlanTime: 900 * time.Millisecond}
	r.Err = err
	r.Took = 2 * time.Second
	return r
}

func planChangedErr() error {
	p := appliedPlan()
	p.Digest = digestB
	return &applier.PlanChangedError{Shown: digestA, Plan: p}
}

func problemsErr() error {
	return &applier.ProblemsError{Problems: problemPlan().Envs[0].Plan.Problems}
}

func dangerousErr() error {
	return &applier.DangerousError{Changes: driftDangerPlan().Envs[0].Plan.Changes[:1]}
}

func deniedErr() error {
	return &applier.DeniedError{Denied: []applier.DeniedAccess{
		{Access: "patch deployments.apps in namespace apps", Objects: []string{"Deployment/apps/web", "Deployment/apps/worker"}},
		{Access: "delete configmaps in namespace apps", Objects: []string{"ConfigMap/apps/old-flags"},
			Reason: "RBAC: role \"tugboat\" does not allow delete | ask @acme/platform"},
	}}
}

// errorReport is a flow that failed before the applier made a plan.
func errorReport() ApplyReport {
	r := baseReport()
	r.Err = errors.New("apply staging: re-plan: render deploy/overlays/staging: kustomize: accumulating resources: " +
		"evalsymlink failure on 'deploy/base/missing.yaml'")
	r.Took = 1500 * time.Millisecond
	return r
}

// manyObjectsReport writes n objects and leaves m not ready, each with a
// long diagnosis: more than any comment or check run can hold.
func manyObjectsReport(n, m int) ApplyReport {
	r := crashloopReport()
	res := r.Result
	res.Writes, res.Prunes = nil, nil
	for i := range n {
		res.Writes = append(res.Writes, applier.ObjectWrite{
			Ref: configMap("apps", fmt.Sprintf("settings-%04d-with-a-rather-long-name-to-fill-lines", i)), Action: planner.ActionCreate,
			Outcome: applier.WriteApplied})
		res.Prunes = append(res.Prunes, applier.ObjectPrune{Ref: configMap("apps", fmt.Sprintf("old-%04d", i)),
			Outcome: applier.PruneKept, Reason: "opted out with tugboat.dev/prune: disabled"})
	}
	base := res.Wait.Objects[1]
	res.Wait.Objects = nil
	for i := range m {
		o := base
		o.Ref = deployment("apps", fmt.Sprintf("web-%03d", i))
		res.Wait.Objects = append(res.Wait.Objects, o)
	}
	return r
}
