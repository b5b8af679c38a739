package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/tugboatops/tugboat/planner"
)

// jsonVersion is the version of the `bot plan -o json` document.
//
// Version 1 (stable: fields are only ever added, never renamed or removed;
// every field is always present):
//
//	{
//	  "version": 1,
//	  "plans": [{
//	    "env": "staging",               // environment name from .tugboat.yaml
//	    "cluster": "staging",           // cluster name from the server config
//	    "headSHA": "…",                 // commit planned ("" when unknown)
//	    "digest": "sha256:…",           // identifies the plan; see Plan.Digest
//	    "counts": {"create": 1, "update": 2, "delete": 0, "unchanged": 7},
//	    "changes": [{                   // CRDs, Namespaces, then kind order, namespace, name
//	      "group": "apps", "version": "v1", "kind": "Deployment",
//	      "namespace": "apps",          // "" for cluster-scoped objects
//	      "name": "web",
//	      "action": "create|update|delete|unchanged",
//	      "fromPR": true,               // false: only there because the cluster drifted
//	      "danger": "",                 // non-empty for deletes of Namespace, PVC, PV, CRD
//	      "diff": "--- live\n+++ planned\n@@ …",  // unified diff, Secret values masked; "" when unchanged
//	      "source": {"file": "deploy/web.yaml", "line": 3}  // repo-relative; line 0 = unknown
//	    }],
//	    "problems": [{
//	      "file": "deploy/web.yaml", "line": 3,   // "" / 0 when not about a file
//	      "object": "Deployment/apps/web",        // Kind/namespace/name or Kind/name; "" when not about an object
//	      "message": "…"
//	    }]
//	  }]
//	}
const jsonVersion = 1

// jsonReport is the `bot plan -o json` document.
type jsonReport struct {
	Version int        `json:"version"`
	Plans   []jsonPlan `json:"plans"`
}

// jsonPlan is one environment's plan in a jsonReport.
type jsonPlan struct {
	Env      string         `json:"env"`
	Cluster  string         `json:"cluster"`
	Commit   string         `json:"headSHA"` // version 1's name for the commit planned, kept: fields are never renamed
	Digest   string         `json:"digest"`
	Counts   planner.Counts `json:"counts"`
	Changes  []jsonChange   `json:"changes"`
	Problems []jsonProblem  `json:"problems"`
	// Warnings (added in version 1, additive) are violations of warn
	// policies and notes (a Helm chart's hooks, not applied): shown, never
	// failing the plan.
	Warnings []jsonProblem `json:"warnings"`
}

// jsonChange is one change in a jsonPlan.
type jsonChange struct {
	Group     string           `json:"group"`
	Version   string           `json:"version"`
	Kind      string           `json:"kind"`
	Namespace string           `json:"namespace"`
	Name      string           `json:"name"`
	Action    planner.Action   `json:"action"`
	FromPR    bool             `json:"fromPR"`
	Danger    string           `json:"danger"`
	Diff      string           `json:"diff"`
	Source    planner.Location `json:"source"`
}

// jsonProblem is one problem in a jsonPlan.
type jsonProblem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Object  string `json:"object"`
	Message string `json:"message"`
}

// newJSONReport converts plans into the versioned JSON document.
func newJSONReport(plans []*planner.Plan) jsonReport {
	rep := jsonReport{Version: jsonVersion, Plans: []jsonPlan{}}
	for _, p := range plans {
		jp := jsonPlan{Env: p.Env, Cluster: p.Cluster, Commit: p.Commit, Digest: p.Digest,
			Counts: p.Counts(), Changes: []jsonChange{}, Problems: []jsonProblem{}, Warnings: []jsonProblem{}}
		for _, c := range p.Changes {
			jp.Changes = append(jp.Changes, jsonChange{
				Group: c.Ref.Group, Version: c.Ref.Version, Kind: c.Ref.Kind,
				Namespace: c.Ref.Namespace, Name: c.Ref.Name, Action: c.Action,
				FromPR: c.FromPR, Danger: c.Danger, Diff: c.Diff, Source: c.Source,
			})
		}
		for _, pr := range p.Problems {
			jp.Problems = append(jp.Problems, jsonProblem{File: pr.Source.File, Line: pr.Source.Line, Object: pr.Object, Message: pr.Message})
		}
		for _, w := range p.Warnings {
			jp.Warnings = append(jp.Warnings, jsonProblem{File: w.Source.File, Line: w.Source.Line, Object: w.Object, Message: w.Message})
		}
		rep.Plans = append(rep.Plans, jp)
	}
	return rep
}

// writeJSON writes plans as the versioned JSON document, indented.
func writeJSON(w io.Writer, plans []*planner.Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(newJSONReport(plans)); err != nil {
		return fmt.Errorf("write plan JSON: %w", err)
	}
	return nil
}

// exitCode is `bot plan`'s exit status, like Terraform's -detailed-exitcode:
// 1 when any plan has a problem (even with changes), 2 when some plan has
// changes, 0 when there is nothing to do.
func exitCode(plans []*planner.Plan) int {
	changes := false
	for _, p := range plans {
		if len(p.Problems) > 0 {
			return 1
		}
		if p.HasChanges() {
			changes = true
		}
	}
	if changes {
		return 2
	}
	return 0
}
