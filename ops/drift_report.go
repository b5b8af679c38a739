package ops

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/kube"
)

// DriftLabel labels tugboat's drift issues. The issue of an environment is
// found by this label, the bot as author and the hidden marker of its
// environment — never by title, which people edit.
const DriftLabel = "tugboat/drift"

// DriftStatusPrefix starts the context of the commit status a drift check
// posts on the recorded commit, tugboat/drift/<env>.
const DriftStatusPrefix = "tugboat/drift/"

// driftReporter reports the drift checks of one environment in one round:
// the environment's issue, the tugboat/drift/<env> status on the recorded
// commit, and the drift annotations on the ApplySet parent (which badges,
// the status page and the next round read).
type driftReporter struct {
	o      *Ops
	rc     *driftRepo
	env    config.Environment
	target driftTarget
	// issue is the environment's drift issue once found or opened.
	issue *gh.Issue
}

// report publishes one check. prev is the status recorded before it;
// healing, when set, is a note on what self-heal does (shown in the
// issue); healed says the drift was healed by tugboat (the closing comment
// says so). It returns the status recorded.
func (d *driftReporter) report(ctx context.Context, prev kube.DriftStatus, check driftCheck, healing string, healed bool) (kube.DriftStatus, error) {
	log := zerolog.Ctx(ctx)
	st := check.status
	var errs []error
	switch st.State {
	case kube.DriftUnknown:
		log.Warn().Str("reason", st.Message).Msg("drift: could not check the environment")
		// An open issue stays as it was, with a note the first time the
		// check fails for this reason; no issue is opened for it.
		st.Issue = prev.Issue
		if prev.Issue != 0 && (prev.State != kube.DriftUnknown || prev.Message != st.Message) {
			is, err := d.findIssue(ctx, prev.Issue)
			switch {
			case err != nil:
				errs = append(errs, err)
			case is != nil && is.State == "open":
				errs = append(errs, d.comment(ctx, comments.DriftUnknownComment(d.env.Name, st.Message)))
			}
		}
	case kube.DriftDrifted:
		log.Info().Int("objects", st.Objects).Msg("drift: the environment drifted")
		is, err := d.upsertIssue(ctx, prev.Issue, check, healing)
		if err != nil {
			errs = append(errs, err)
			st.Issue = prev.Issue
		} else {
			st.Issue = is.Number
		}
		errs = append(errs, d.postStatus(ctx, prev, st))
	case kube.DriftInSync:
		if prev.Issue != 0 || prev.State == kube.DriftDrifted {
			errs = append(errs, d.closeIssue(ctx, prev.Issue, healed))
		}
		errs = append(errs, d.postStatus(ctx, prev, st))
	}
	if err := d.o.records.SetDrift(ctx, d.target.cluster, d.target.rec.Set, st); err != nil {
		errs = append(errs, err)
	}
	return st, errors.Join(errs...)
}

// ref names where the recorded commit came from: the default branch, or
// the pull request applied before merge.
func (d *driftReporter) ref() string {
	rec := d.target.rec.Record
	if rec.Trigger == kube.TriggerApply && rec.PR != 0 {
		return fmt.Sprintf("#%d", rec.PR)
	}
	return d.rc.branch
}

func (d *driftReporter) driftReport(check driftCheck, healing string) comments.DriftReport {
	return comments.DriftReport{
		Repo: d.rc.repo.FullName(), RepoURL: d.o.repoURL(d.rc.repo), Env: d.env.Name, Cluster: d.env.Cluster,
		Mode: comments.ApplyMode(d.env.Apply), Commit: check.status.Commit, Ref: d.ref(), Plan: check.plan,
		Checked: check.status.Time, Healing: healing,
	}
}

// ours reports whether an issue is this environment's drift issue.
func (d *driftReporter) ours(is gh.Issue) bool {
	if is.PullRequest || d.o.opts.BotLogin != "" && is.Author != d.o.opts.BotLogin {
		return false
	}
	m, ok := comments.ParseDriftMarker(is.Body)
	return ok && m.Part == 1 && m.Env == d.env.Name
}

// findIssue finds the environment's drift issue: the one recorded (hint),
// else the newest open one with the label, else the newest closed one (to
// reopen rather than duplicate). nil when there is none.
func (d *driftReporter) findIssue(ctx context.Context, hint int) (*gh.Issue, error) {
	if d.issue != nil {
		return d.issue, nil
	}
	if hint != 0 {
		is, err := d.rc.client.GetIssue(ctx, d.rc.repo, hint)
		switch {
		case err == nil && d.ours(is):
			d.issue = &is
			return d.issue, nil
		case err != nil && !gh.IsNotFound(err):
			return nil, err
		}
	}
	list, err := d.rc.client.IssuesByLabel(ctx, d.rc.repo, DriftLabel)
	if err != nil {
		return nil, err
	}
	var closed *gh.Issue
	for i := range list {
		is := list[i]
		if !d.ours(is) {
			continue
		}
		if is.State == "open" {
			d.issue = &is
			return d.issue, nil
		}
		if closed == nil {
			closed = &is
		}
	}
	d.issue = closed
	return d.issue, nil
}

// upsertIssue opens the environment's drift issue, or updates it in place
// (reopening it with a note if it was closed), continuations included.
func (d *driftReporter) upsertIssue(ctx context.Context, hint int, check driftCheck, healing string) (*gh.Issue, error) {
	log := zerolog.Ctx(ctx)
	r := d.driftReport(check, healing)
	parts := comments.DriftIssue(r)
	title := comments.DriftIssueTitle(r)
	is, err := d.findIssue(ctx, hint)
	if err != nil {
		return nil, err
	}
	client, repo := d.rc.client, d.rc.repo
	if is == nil {
		created, err := client.CreateIssue(ctx, repo, title, parts[0], []string{DriftLabel})
		if err != nil {
			return nil, err
		}
		d.issue = &created
		log.Info().Int("issue", created.Number).Msg("drift: opened the drift issue")
		for _, p := range parts[1:] {
			if _, err := client.CreateComment(ctx, repo, created.Number, p); err != nil {
				return d.issue, err
			}
		}
		return d.issue, nil
	}
	edit := gh.IssueEdit{Title: github.String(title), Body: github.String(parts[0])}
	reopen := is.State != "open"
	if reopen {
		edit.State = github.String("open")
	}
	updated, err := client.EditIssue(ctx, repo, is.Number, edit)
	if err != nil {
		return nil, err
	}
	d.issue = &updated
	if err := d.syncContinuations(ctx, parts[1:]); err != nil {
		return d.issue, err
	}
	if reopen {
		log.Info().Int("issue", updated.Number).Msg("drift: reopened the drift issue")
		if err := d.comment(ctx, comments.DriftBackComment(r)); err != nil {
			return d.issue, err
		}
	}
	return d.issue, nil
}

// syncContinuations makes the issue's continuation comments (parts 2…)
// the rest of the drift: edited in place, created when missing, deleted
// when the drift got shorter.
func (d *driftReporter) syncContinuations(ctx context.Context, rest []string) error {
	client, repo, n := d.rc.client, d.rc.repo, d.issue.Number
	all, err := client.Comments(ctx, repo, n)
	if err != nil {
		return err
	}
	have := map[int]gh.Comment{}
	for _, c := range all {
		m, ok := comments.ParseDriftMarker(c.Body)
		if !ok || m.Part < 2 || m.Env != d.env.Name || d.o.opts.BotLogin != "" && c.Author != d.o.opts.BotLogin {
			continue
		}
		if _, dup := have[m.Part]; dup {
			continue
		}
		have[m.Part] = c
	}
	for i, body := range rest {
		part := i + 2
		c, ok := have[part]
		delete(have, part)
		switch {
		case !ok:
			_, err = client.CreateComment(ctx, repo, n, body)
		case c.Body != body:
			_, err = client.EditComment(ctx, repo, c.ID, body)
		}
		if err != nil {
			return err
		}
	}
	for _, c := range have {
		if err := client.DeleteComment(ctx, repo, c.ID); err != nil {
			return err
		}
	}
	return nil
}

// closeIssue closes the environment's open drift issue with a comment.
func (d *driftReporter) closeIssue(ctx context.Context, hint int, healed bool) error {
	is, err := d.findIssue(ctx, hint)
	if err != nil || is == nil || is.State != "open" {
		return err
	}
	if err := d.comment(ctx, comments.DriftGoneComment(d.env.Name, d.ref(), d.target.rec.Record.Commit, healed)); err != nil {
		return err
	}
	closed, err := d.rc.client.EditIssue(ctx, d.rc.repo, is.Number, gh.IssueEdit{State: github.String("closed")})
	if err != nil {
		return err
	}
	d.issue = &closed
	zerolog.Ctx(ctx).Info().Int("issue", closed.Number).Msg("drift: the drift is gone; closed the drift issue")
	return nil
}

// comment posts on the environment's drift issue, when there is one.
func (d *driftReporter) comment(ctx context.Context, body string) error {
	if d.issue == nil {
		return nil
	}
	_, err := d.rc.client.CreateComment(ctx, d.rc.repo, d.issue.Number, body)
	return err
}

// postStatus posts tugboat/drift/<env> on the recorded commit when its
// state changes: the previous check's state when it was of the same
// commit, else the status GitHub has (Flux's notification-controller
// posted one on every reconcile, fluxcd/notification-controller#92).
func (d *driftReporter) postStatus(ctx context.Context, prev, st kube.DriftStatus) error {
	state, desc := comments.DriftStatus(st.Objects)
	name := DriftStatusPrefix + d.env.Name
	client, repo := d.rc.client, d.rc.repo
	last := ""
	switch {
	case prev.Commit == st.Commit && prev.State == kube.DriftInSync:
		last = comments.StateSuccess
	case prev.Commit == st.Commit && prev.State == kube.DriftDrifted:
		last = comments.StateFailure
	default:
		all, err := client.Statuses(ctx, repo, st.Commit)
		if err != nil {
			return err
		}
		for _, s := range all {
			if s.Context == name && (d.o.opts.BotLogin == "" || s.Creator == d.o.opts.BotLogin) {
				last = s.State
			}
		}
	}
	if last == state {
		return nil
	}
	target := ""
	if d.issue != nil && st.State == kube.DriftDrifted {
		target = d.issue.HTMLURL
	}
	return client.SetStatus(ctx, repo, st.Commit, gh.Status{Context: name, State: state, Description: desc, TargetURL: target})
}
