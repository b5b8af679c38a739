package planner

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// JSONVersion is the version of the `bot plan -o json` document.
//
// Version 1 (stable: fields are only ever added, never renamed or removed;
// every field is always present):
//
//	{
//	  "version": 1,
//	  "plans": [{
//	    "env": "staging",               // environment name from .tugboat.yaml
//	    "cluster": "staging",           // cluster name from the server config
//	    "headSHA": "…",                 // commit planned, Plan.Commit (--sha; "" when unknown)
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
const JSONVersion = 1

// JSONReport is the `bot plan -o json` document.
type JSONReport struct {
	Version int        `json:"version"`
	Plans   []JSONPlan `json:"plans"`
}

// JSONPlan is one environment's plan in a JSONReport.
type JSONPlan struct {
	Env      string        `json:"env"`
	Cluster  string        `json:"cluster"`
	Commit   string        `json:"headSHA"` // version 1's name for it, kept: fields are never renamed
	Digest   string        `json:"digest"`
	Counts   Counts        `json:"counts"`
	Changes  []JSONChange  `json:"changes"`
	Problems []JSONProblem `json:"problems"`
}

// JSONChange is one change in a JSONPlan.
type JSONChange struct {
	Group     string   `json:"group"`
	Version   string   `json:"version"`
	Kind      string   `json:"kind"`
	Namespace string   `json:"namespace"`
	Name      string   `json:"name"`
	Action    Action   `json:"action"`
	FromPR    bool     `json:"fromPR"`
	Danger    string   `json:"danger"`
	Diff      string   `json:"diff"`
	Source    Location `json:"source"`
}

// JSONProblem is one problem in a JSONPlan.
type JSONProblem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Object  string `json:"object"`
	Message string `json:"message"`
}

// NewJSONReport converts plans into the versioned JSON document.
func NewJSONReport(plans []*Plan) JSONReport {
	rep := JSONReport{Version: JSONVersion, Plans: []JSONPlan{}}
	for _, p := range plans {
		jp := JSONPlan{Env: p.Env, Cluster: p.Cluster, Commit: p.Commit, Digest: p.Digest,
			Counts: p.Counts(), Changes: []JSONChange{}, Problems: []JSONProblem{}}
		for _, c := range p.Changes {
			jp.Changes = append(jp.Changes, JSONChange{
				Group: c.Ref.Group, Version: c.Ref.Version, Kind: c.Ref.Kind,
				Namespace: c.Ref.Namespace, Name: c.Ref.Name, Action: c.Action,
				FromPR: c.FromPR, Danger: c.Danger, Diff: c.Diff, Source: c.Source,
			})
		}
		for _, pr := range p.Problems {
			jp.Problems = append(jp.Problems, JSONProblem{File: pr.Source.File, Line: pr.Source.Line, Object: pr.Object, Message: pr.Message})
		}
		rep.Plans = append(rep.Plans, jp)
	}
	return rep
}

// WriteJSON writes plans as the versioned JSON document, indented.
func WriteJSON(w io.Writer, plans []*Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(NewJSONReport(plans)); err != nil {
		return fmt.Errorf("write plan JSON: %w", err)
	}
	return nil
}

// WriteMarkdown writes plans as plain, readable Markdown: per environment
// a summary line, the problems, and each change with its diff.
func WriteMarkdown(w io.Writer, plans []*Plan) error {
	var b strings.Builder
	for i, p := range plans {
		if i > 0 {
			b.WriteString("\n")
		}
		c := p.Counts()
		fmt.Fprintf(&b, "## %s (cluster %s)\n\n", p.Env, p.Cluster)
		fmt.Fprintf(&b, "Plan: %d to create, %d to update, %d to delete, %d unchanged.\n", c.Create, c.Update, c.Delete, c.Unchanged)
		if p.Commit != "" {
			fmt.Fprintf(&b, "Commit: `%s`\n", p.Commit)
		}
		fmt.Fprintf(&b, "Digest: `%s`\n", p.Digest)
		if len(p.Problems) > 0 {
			fmt.Fprintf(&b, "\n### Problems (%d)\n\n", len(p.Problems))
			for _, pr := range p.Problems {
				b.WriteString("- ")
				if loc := outputLocation(pr.Source); loc != "" {
					fmt.Fprintf(&b, "`%s` ", loc)
				}
				if pr.Object != "" {
					fmt.Fprintf(&b, "`%s`: ", pr.Object)
				}
				b.WriteString(pr.Message)
				b.WriteString("\n")
			}
		}
		drift := 0
		for _, ch := range p.Changes {
			if ch.Action != ActionUnchanged && !ch.FromPR {
				drift++
			}
		}
		if drift > 0 {
			noun := "changes are"
			if drift == 1 {
				noun = "change is"
			}
			fmt.Fprintf(&b, "\n%d %s not made by this pull request: the cluster drifted from the base branch, and applying reverts that drift.\n", drift, noun)
		}
		for _, ch := range p.Changes {
			if ch.Action == ActionUnchanged {
				continue
			}
			origin := "from this PR"
			if !ch.FromPR {
				origin = "drift"
			}
			fmt.Fprintf(&b, "\n### %s %s (%s)\n\n", ch.Action, ch.Ref, origin)
			if loc := outputLocation(ch.Source); loc != "" {
				fmt.Fprintf(&b, "Source: `%s`\n\n", loc)
			}
			if ch.Danger != "" {
				fmt.Fprintf(&b, "**Danger:** %s\n\n", ch.Danger)
			}
			if ch.Diff != "" {
				fence := codeFence(ch.Diff)
				fmt.Fprintf(&b, "%sdiff\n%s", fence, ch.Diff)
				if !strings.HasSuffix(ch.Diff, "\n") {
					b.WriteString("\n")
				}
				b.WriteString(fence + "\n")
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("write plan Markdown: %w", err)
	}
	return nil
}

func outputLocation(l Location) string {
	if l.File == "" {
		return ""
	}
	if l.Line > 0 {
		return fmt.Sprintf("%s:%d", l.File, l.Line)
	}
	return l.File
}

// codeFence returns a backtick fence longer than any backtick run in s, so
// a diff of YAML holding ``` cannot end its code block early.
func codeFence(s string) string {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// ExitCode is `bot plan`'s exit status, like Terraform's -detailed-exitcode:
// 1 when any plan has a problem (even with changes), 2 when some plan has
// changes, 0 when there is nothing to do.
func ExitCode(plans []*Plan) int {
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
