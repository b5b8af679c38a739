package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/kube"
)

// runHistory implements `bot history --env ENV`: the environment's last
// deploys, newest first, and its pin. What ran, when and with what result
// come from the ApplySet record in the cluster; who deployed each and
// which were promotions come from GitHub (the environment's Deployments
// and the deploys' pull requests) when --config has the GitHub App's
// settings, as `bot serve`'s does.
func runHistory(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f localFlags
	fset := flag.NewFlagSet("history", flag.ContinueOnError)
	fset.SetOutput(stderr)
	f.register(fset, "list", "list every environment")
	f.needRepoName = true
	if err := fset.Parse(args); err != nil {
		return 1
	}
	if f.repo == "" || f.config == "" || f.all == (f.env != "") {
		fmt.Fprintln(stderr, "bot history: --repo, --config and one of --env NAME and --all are required")
		fset.Usage()
		return 1
	}
	l, err := setupLocal(ctx, f, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "bot history: %v\n", err)
		return 1
	}
	ghr, why := historyGitHub(ctx, f.config, l.input.RepoName)
	for i, env := range l.envs {
		c, err := l.clusters.Cluster(env.Cluster)
		if err != nil {
			fmt.Fprintf(stderr, "bot history: %v\n", err)
			return 1
		}
		set := kube.ApplySet{Repo: l.input.RepoName, Env: env.Name}
		inv, err := kube.ReadInventory(ctx, c, set)
		if err != nil {
			fmt.Fprintf(stderr, "bot history: %v\n", err)
			return 1
		}
		pin, err := kube.ReadPin(ctx, c, set)
		if err != nil {
			fmt.Fprintf(stderr, "bot history: %v\n", err)
			return 1
		}
		rec := kube.RecordFrom(inv)
		var facts *githubFacts
		if ghr != nil && len(rec.History) > 0 {
			// GitHub only adds to the record: a failed read is reported and
			// the record is still listed.
			if facts, err = ghr.facts(ctx, env.Name, rec.History); err != nil {
				fmt.Fprintf(stderr, "bot history: %s: who and promotions not shown: %v\n", env.Name, err)
				facts = nil
			}
		}
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		_, _ = io.WriteString(stdout, historyText(env, rec, pin, facts))
	}
	if ghr == nil {
		fmt.Fprintf(stdout, "\nWHO and promotion marks need GitHub: %s.\n", why)
	}
	return 0
}

// historyRow is one deploy as `bot history` lists it.
type historyRow struct {
	when, commit, pr, who, how, result string
	marks                              []string
}

// historyText renders an environment's history for the terminal: the
// record's deploys (at most kube.MaxHistory, which is the last 10), with
// what facts (nil: no GitHub) says of each.
func historyText(env config.Environment, rec kube.Record, pin *kube.Pin, facts *githubFacts) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (cluster %s)", env.Name, env.Cluster)
	if pin != nil {
		fmt.Fprintf(&b, ": %s since %s", comments.PinText(comments.Pin{Env: env.Name, Commit: pin.Commit, By: pin.By}), pin.Time.UTC().Format(time.RFC3339))
		if pin.RevertPR > 0 {
			fmt.Fprintf(&b, " (merging #%d unpins)", pin.RevertPR)
		}
	}
	b.WriteString("\n")
	if len(rec.History) == 0 {
		b.WriteString("  never deployed\n")
		return b.String()
	}
	rows := make([]historyRow, 0, len(rec.History))
	for i, d := range rec.History {
		r := historyRow{when: d.Time.UTC().Format(time.RFC3339), commit: comments.ShortSHA(d.Commit), pr: "-", who: "?",
			how: orDash(d.Trigger), result: orDash(string(d.Outcome))}
		if d.PR > 0 {
			r.pr = fmt.Sprintf("#%d", d.PR)
		}
		if facts != nil {
			r.who = orDash(facts.who[i])
			r.marks = append(r.marks, facts.marks[i]...)
		}
		if d.Trigger == kube.TriggerRollback {
			r.marks = append(r.marks, "rollback")
		}
		if pin != nil && d.Commit == pin.Commit && d.Trigger == kube.TriggerRollback {
			r.marks = append(r.marks, "pinned here")
		}
		rows = append(rows, r)
	}
	// Column widths fit the longest value (logins and triggers vary).
	w := historyRow{when: "WHEN", commit: "COMMIT", pr: "PR", who: "WHO", how: "HOW", result: "RESULT"}
	width := func(get func(historyRow) string) int {
		n := len(get(w))
		for _, r := range rows {
			n = max(n, len(get(r)))
		}
		return n
	}
	wPR, wWho, wHow, wRes := width(func(r historyRow) string { return r.pr }), width(func(r historyRow) string { return r.who }),
		width(func(r historyRow) string { return r.how }), width(func(r historyRow) string { return r.result })
	line := func(r historyRow, marks string) {
		s := fmt.Sprintf("  %-20s  %-7s  %-*s  %-*s  %-*s  %-*s  %s", r.when, r.commit, wPR, r.pr, wWho, r.who, wHow, r.how, wRes, r.result, marks)
		b.WriteString(strings.TrimRight(s, " ") + "\n")
	}
	line(w, "MARKS")
	for _, r := range rows {
		line(r, strings.Join(r.marks, ", "))
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
