package ops

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
)

// requirementChecks evaluates an environment's `requires:` for one pull
// request. What it reads of GitHub (reviews, checks, statuses) is read once
// per attempt and shared by its environments.
type requirementChecks struct {
	o    *Ops
	pr   PR
	info *gh.PullRequest

	perms map[string]string // login → permission, read once each
	trees map[string]string // commit → tree
	// runs are the head's check runs when the caller read them already
	// (nil: mergeableState reads them).
	runs []gh.CheckRunInfo

	approvals  *approvalState
	mergeable  []comments.Reason
	mergeKnown bool
}

func newRequirementChecks(o *Ops, pr PR, info *gh.PullRequest) *requirementChecks {
	return &requirementChecks{o: o, pr: pr, info: info, perms: map[string]string{}, trees: map[string]string{}}
}

// unmet lists env's requirements that the pull request does not meet, as
// reasons for the reply (and for an on-merge environment's check run).
// What the two gates read of GitHub is read at once, not one after the
// other: each round trip is on the way from /apply to the apply.
func (c *requirementChecks) unmet(ctx context.Context, env config.Environment) ([]comments.Reason, error) {
	var (
		wg         sync.WaitGroup
		approvals  *approvalState
		mergeable  []comments.Reason
		aErr, mErr error
	)
	if slices.Contains(env.Requires, config.RequireMergeable) {
		wg.Add(1)
		go func() { defer wg.Done(); mergeable, mErr = c.mergeableState(ctx) }()
	}
	if slices.Contains(env.Requires, config.RequireApproved) {
		approvals, aErr = c.approvalsState(ctx)
	}
	wg.Wait()
	var out []comments.Reason
	for _, r := range env.Requires {
		switch r {
		case config.RequireApproved:
			if aErr != nil {
				return nil, aErr
			}
			out = append(out, approvals.unmet(env.Approvals)...)
		case config.RequireMergeable:
			if mErr != nil {
				return nil, mErr
			}
			out = append(out, mergeable...)
		}
	}
	return out, nil
}

// permission is a user's permission on the repository, read once.
func (c *requirementChecks) permission(ctx context.Context, user string) (string, error) {
	if p, ok := c.perms[user]; ok {
		return p, nil
	}
	p, err := c.pr.Client.Permission(ctx, c.pr.Repo, user)
	if err != nil {
		return "", err
	}
	c.perms[user] = p
	return p, nil
}

func (c *requirementChecks) tree(ctx context.Context, sha string) (string, error) {
	if t, ok := c.trees[sha]; ok {
		return t, nil
	}
	t, err := c.pr.Client.CommitTree(ctx, c.pr.Repo, sha)
	if err != nil {
		return "", err
	}
	c.trees[sha] = t
	return t, nil
}

// canWrite is GitHub's "write access": write, maintain or admin.
func canWrite(permission string) bool {
	return permission == "write" || permission == "maintain" || permission == "admin"
}

// approvalState is what the reviews say: who approves the current content,
// whose approval is stale, who requests changes.
type approvalState struct {
	current, changes []string
	stale            []gh.Review
}

// approvalsState reads the reviews. Per reviewer with write access (not
// the author), the latest APPROVED, CHANGES_REQUESTED or DISMISSED review
// decides; a later COMMENTED review changes nothing (GitHub's rule). An
// approval of an earlier commit counts only if that commit's tree is the
// head's tree: a re-push of the same content keeps approvals, any change
// of content makes them stale — finer than GitHub's "dismiss stale
// approvals" (any push) and stricter than Atlantis (any approval).
func (c *requirementChecks) approvalsState(ctx context.Context) (*approvalState, error) {
	if c.approvals != nil {
		return c.approvals, nil
	}
	reviews, err := c.pr.Client.Reviews(ctx, c.pr.Repo, c.pr.Number)
	if err != nil {
		return nil, err
	}
	latest := map[string]gh.Review{}
	for _, r := range reviews {
		switch r.State {
		case "APPROVED", "CHANGES_REQUESTED", "DISMISSED":
			if r.User != "" && !strings.EqualFold(r.User, c.info.Author) && !strings.EqualFold(r.User, c.requester()) {
				latest[r.User] = r
			}
		}
	}
	users := make([]string, 0, len(latest))
	for u := range latest {
		users = append(users, u)
	}
	sort.Strings(users)
	st := &approvalState{}
	var headTree string
	for _, u := range users {
		r := latest[u]
		if r.State == "DISMISSED" {
			continue
		}
		p, err := c.permission(ctx, u)
		if err != nil {
			return nil, err
		}
		if !canWrite(p) {
			continue
		}
		if r.State == "CHANGES_REQUESTED" {
			st.changes = append(st.changes, u)
			continue
		}
		if r.CommitID == c.info.HeadSHA {
			st.current = append(st.current, u)
			continue
		}
		if headTree == "" {
			if headTree, err = c.tree(ctx, c.info.HeadSHA); err != nil {
				return nil, err
			}
		}
		t, err := c.tree(ctx, r.CommitID)
		if err != nil {
			return nil, err
		}
		if t == headTree {
			st.current = append(st.current, u)
		} else {
			st.stale = append(st.stale, r)
		}
	}
	c.approvals = st
	return st, nil
}

// requester is who asked for a promotion pull request the bot opened: they
// count as its author, so their own approval does not count ("" for any
// other pull request).
func (c *requirementChecks) requester() string {
	if c.info == nil || c.info.Author != c.o.opts.BotLogin {
		return ""
	}
	return comments.PromotionRequester(c.info.Body)
}

// unmet names what keeps the approvals from sufficing.
func (s *approvalState) unmet(need int) []comments.Reason {
	var out []comments.Reason
	if len(s.current) < need {
		out = append(out, comments.ReasonApprovals(need, len(s.current)))
		for _, r := range s.stale {
			out = append(out, comments.ReasonStaleApproval(r.User, r.CommitID))
		}
	}
	if len(s.changes) > 0 {
		out = append(out, comments.ReasonChangesRequested(s.changes...))
	}
	return out
}

// mergeableState lists why the pull request is not mergeable: a conflict,
// a draft, and every check run or status on the head that has not
// succeeded — except tugboat's own, recognised by app id and bot login,
// so tugboat's checks never block /apply (Atlantis #453/#811) — and every
// context the base branch requires that has not reported (missing CI never
// counts as green).
func (c *requirementChecks) mergeableState(ctx context.Context) ([]comments.Reason, error) {
	if c.mergeKnown {
		return c.mergeable, nil
	}
	var out []comments.Reason
	if c.info.Draft {
		out = append(out, comments.ReasonDraft())
	}
	if !c.info.Mergeable {
		out = append(out, comments.ReasonConflict(c.info.BaseRef))
	}
	client, repo, head := c.pr.Client, c.pr.Repo, c.info.HeadSHA
	runs := c.runs
	var (
		statuses []gh.Status
		required []string
	)
	g, gctx := errgroup.WithContext(ctx)
	if runs == nil {
		g.Go(func() (err error) { runs, err = client.CheckRunsForRef(gctx, repo, head); return })
	}
	g.Go(func() (err error) { statuses, err = client.Statuses(gctx, repo, head); return })
	g.Go(func() (err error) { required, err = client.RequiredChecks(gctx, repo, c.info.BaseRef); return })
	if err := g.Wait(); err != nil {
		return nil, err
	}
	reported := map[string]bool{}
	latest := map[string]gh.CheckRunInfo{}
	for _, r := range runs {
		reported[r.Name] = true
		if r.AppID == c.o.opts.AppID {
			continue
		}
		if cur, ok := latest[r.Name]; !ok || r.ID > cur.ID {
			latest[r.Name] = r
		}
	}
	for _, name := range sortedKeys(latest) {
		r := latest[name]
		switch {
		case r.Status != "completed":
			out = append(out, comments.ReasonCheckPending(name))
		case r.Conclusion != "success" && r.Conclusion != "neutral" && r.Conclusion != "skipped":
			out = append(out, comments.ReasonCheckFailed(name, r.Conclusion))
		}
	}
	for _, s := range statuses {
		reported[s.Context] = true
		if strings.EqualFold(s.Creator, c.o.opts.BotLogin) {
			continue
		}
		switch s.State {
		case "success":
		case "pending":
			out = append(out, comments.ReasonCheckPending(s.Context))
		default:
			out = append(out, comments.ReasonCheckFailed(s.Context, s.State))
		}
	}
	for _, name := range required {
		// A required context tugboat reports itself (tugboat/<env>) that has
		// not reported yet is tugboat's to post, not a missing CI: only
		// those go by name, since nothing else identifies an absent check.
		if reported[name] || isOwnCheckName(name) {
			continue
		}
		out = append(out, comments.ReasonCheckMissing(name))
	}
	c.mergeable, c.mergeKnown = out, true
	return out, nil
}

func isOwnCheckName(name string) bool {
	return name == CheckEarlyFailure || strings.HasPrefix(name, CheckPrefix)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// mayApply says whether user may apply env: an admin always; when the
// environment lists appliers, only they (a login or team:org/slug);
// otherwise anyone with write access.
func (o *Ops) mayApply(ctx context.Context, c *requirementChecks, env config.Environment, user string) (bool, comments.Reason, error) {
	p, err := c.permission(ctx, user)
	if err != nil {
		return false, comments.Reason{}, err
	}
	if p == "admin" {
		return true, comments.Reason{}, nil
	}
	if len(env.Appliers) == 0 {
		if canWrite(p) {
			return true, comments.Reason{}, nil
		}
		return false, comments.ReasonNotAllowed(nil), nil
	}
	names := make([]string, len(env.Appliers))
	for i, a := range env.Appliers {
		names[i] = a.String()
		if a.IsLogin(user) {
			return true, comments.Reason{}, nil
		}
		if a.IsTeam() {
			member, err := c.pr.Client.TeamMember(ctx, a.Org, a.Team, user)
			if err != nil {
				return false, comments.Reason{}, err
			}
			if member {
				return true, comments.Reason{}, nil
			}
		}
	}
	return false, comments.ReasonNotAllowed(names), nil
}
