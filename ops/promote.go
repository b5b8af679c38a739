package ops

import (
	"bytes"
	"context"
	"path"

	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/gh"
	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/release"
)

// PromoteRequest is `/promote FROM TO` on a pull request or issue (Number
// is where the reply goes; 0: nowhere, as for the check run's Promote
// button on a push), or `bot promote`.
type PromoteRequest struct {
	PR
	Actor    string
	From, To string
}

// PromoteResult is what a promotion did.
type PromoteResult struct {
	// Number is the promotion pull request (0: none, Refused or Nothing).
	Number  int
	Updated bool
	// Refused says why nothing was done (nil: done or nothing to do).
	Refused []comments.Reason
	// Nothing is true when To runs what From runs already.
	Nothing bool
	// Reply is the reply for the requester.
	Reply string
}

// Promote opens, or updates, the pull request that makes req.To run what
// req.From runs now, and replies where it was asked.
func (o *Ops) Promote(ctx context.Context, req PromoteRequest) error {
	res, err := o.PromoteResult(ctx, req)
	if err != nil {
		return err
	}
	if req.Number == 0 {
		return nil
	}
	return o.Reply(ctx, req.PR, res.Reply)
}

// PromoteResult is Promote without the reply.
func (o *Ops) PromoteResult(ctx context.Context, req PromoteRequest) (*PromoteResult, error) {
	log := zerolog.Ctx(ctx).With().Str("from", req.From).Str("to", req.To).Logger()
	ctx = log.WithContext(ctx)
	refuse := func(r ...comments.Reason) (*PromoteResult, error) {
		log.Info().Str("reason", r[0].Text()).Msg("promotion refused")
		return &PromoteResult{Refused: r, Reply: comments.PromoteRefusedReply(req.Actor, r...)}, nil
	}
	cfg, why, err := o.trustedConfig(ctx, req.PR)
	if err != nil {
		return nil, err
	}
	if cfg == nil {
		return refuse(why)
	}
	from, fromOK := cfg.Env(req.From)
	to, toOK := cfg.Env(req.To)
	switch {
	case !fromOK:
		return refuse(comments.ReasonOther("unknown environment " + req.From + "; the environments are " + joinNames(envNames(cfg))))
	case !toOK:
		return refuse(comments.ReasonOther("unknown environment " + req.To + "; the environments are " + joinNames(envNames(cfg))))
	case req.From == req.To:
		return refuse(comments.ReasonPromoteSelf(req.To))
	case to.Promote == nil:
		return refuse(comments.ReasonNoPromote(req.To))
	case to.Promote.From != req.From:
		return refuse(comments.ReasonPromoteFrom(req.To, to.Promote.From, req.From))
	}
	if req.Actor != "" {
		ok, why, err := o.mayApply(ctx, newRequirementChecks(o, req.PR, nil), to, req.Actor)
		if err != nil {
			return nil, err
		}
		if !ok {
			return refuse(why)
		}
	}
	rec, err := o.state.Record(ctx, from, req.Repo.FullName())
	if err != nil {
		return nil, err
	}
	if r := o.promotableRecord(ctx, req.PR, from.Name, rec); r != nil {
		return refuse(*r)
	}
	info, err := req.Client.Repository(ctx, req.Repo)
	if err != nil {
		return nil, err
	}
	base, err := req.Client.BranchHead(ctx, req.Repo, info.DefaultBranch)
	if err != nil {
		return nil, err
	}
	files, p, refusal, err := o.promotionFiles(ctx, req.PR, from, to, rec.Commit, base)
	if err != nil {
		return nil, err
	}
	if refusal != nil {
		return refuse(*refusal)
	}
	if len(files) == 0 {
		log.Info().Msg("nothing to promote")
		return &PromoteResult{Nothing: true, Reply: comments.NothingToPromoteReply(req.From, req.To, rec.Commit)}, nil
	}
	p.From, p.To, p.Commit, p.PR, p.Deployed, p.Requester = req.From, req.To, rec.Commit, rec.PR, rec.Time, req.Actor
	return o.writePromotion(ctx, req, info.DefaultBranch, base, files, p)
}

// promotableRecord checks that from's record names a converged deploy of
// merged content.
func (o *Ops) promotableRecord(ctx context.Context, pr PR, from string, rec kube.Record) *comments.Reason {
	var r comments.Reason
	switch {
	case rec.Commit == "":
		r = comments.ReasonNeverDeployed(from)
	case rec.Outcome != kube.OutcomeConverged:
		r = comments.ReasonNotConverged(from, rec.Commit, string(rec.Outcome))
	case rec.Trigger == kube.TriggerApply && rec.PR > 0:
		// Applied before merge: the commit is the PR's test merge, content
		// the repository does not have unless the PR merged since.
		info, err := pr.Client.PullRequest(ctx, pr.Repo, rec.PR, o.opts.Mergeable)
		if err != nil || !info.Merged {
			r = comments.ReasonRunsUnmerged(from, rec.PR)
		} else {
			return nil
		}
	default:
		return nil
	}
	return &r
}

// promotionFiles computes the promotion's files from GitHub: from's at
// its deployed commit, to's at the default branch head (see
// PromotionFiles).
func (o *Ops) promotionFiles(ctx context.Context, pr PR, from, to config.Environment, commit, base string) (map[string][]byte, comments.Promotion, *comments.Reason, error) {
	at := func(ref string) FileReader {
		return func(p string) ([]byte, bool, error) { return pr.Client.File(ctx, pr.Repo, ref, p) }
	}
	return PromotionFiles(from, to, commit, at(commit), at(base))
}

// FileReader reads one repository file at a fixed commit; found is false
// when there is none.
type FileReader func(path string) (data []byte, found bool, err error)

// PromotionFiles computes the files a promotion writes (path → new
// content): to's kustomization with from's `images:` entries, to's last
// Helm values file with the value paths of promote.values, and the
// declared files copied from from's path to to's (files are relative to
// each environment's path). fromFiles reads from's deployed commit,
// toFiles the tree the promotion goes on. An empty map means nothing to
// promote; a reason means the promotion cannot be made.
func PromotionFiles(from, to config.Environment, commit string, fromFiles, toFiles FileReader) (map[string][]byte, comments.Promotion, *comments.Reason, error) {
	files := map[string][]byte{}
	var p comments.Promotion
	if to.Promote.Images {
		fromPath, fromK, found, err := readKustomization(fromFiles, from.Path)
		if err != nil {
			return nil, p, nil, err
		}
		if !found {
			r := comments.ReasonPromoteMissing(path.Join(from.Path, "kustomization.yaml"), from.Name, commit)
			return nil, p, &r, nil
		}
		toPath, toK, found, err := readKustomization(toFiles, to.Path)
		if err != nil {
			return nil, p, nil, err
		}
		if !found {
			r := comments.ReasonOther(path.Join(to.Path, "kustomization.yaml") + " does not exist: only Kustomize environments take images")
			return nil, p, &r, nil
		}
		images, err := release.ReadImages(fromK)
		if err != nil {
			r := comments.ReasonOther(fromPath + ": " + err.Error())
			return nil, p, &r, nil
		}
		out, changes, err := release.SetImages(toK, images)
		if err != nil {
			r := comments.ReasonOther(toPath + ": " + err.Error())
			return nil, p, &r, nil
		}
		if len(changes) > 0 {
			files[toPath] = out
		}
		for _, ch := range changes {
			before := ""
			if ch.Before.Name != "" {
				before = ch.Before.Ref()
			}
			p.Images = append(p.Images, comments.PromotedImage{Name: ch.After.Name, Before: before, After: ch.After.Ref(), Version: ch.After.Version()})
		}
	}
	if len(to.Promote.Values) > 0 && from.Helm != nil && to.Helm != nil && len(to.Helm.Values) > 0 {
		r, err := promoteValues(from, to, commit, fromFiles, toFiles, files, &p)
		if err != nil || r != nil {
			return nil, p, r, err
		}
	}
	for _, f := range to.Promote.Files {
		src, dst := path.Join(from.Path, f), path.Join(to.Path, f)
		data, found, err := fromFiles(src)
		if err != nil {
			return nil, p, nil, err
		}
		if !found {
			r := comments.ReasonPromoteMissing(src, from.Name, commit)
			return nil, p, &r, nil
		}
		cur, found, err := toFiles(dst)
		if err != nil {
			return nil, p, nil, err
		}
		if !found || !bytes.Equal(cur, data) {
			files[dst] = data
			p.Files = append(p.Files, dst)
		}
	}
	return files, p, nil, nil
}

// kustomizationNames are the file names Kustomize reads, in its order.
var kustomizationNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

func readKustomization(read FileReader, dir string) (string, []byte, bool, error) {
	for _, n := range kustomizationNames {
		p := path.Join(dir, n)
		data, found, err := read(p)
		if err != nil || found {
			return p, data, found, err
		}
	}
	return "", nil, false, nil
}

// writePromotion commits the files on the bot's branch (force-pushed: the
// branch is the bot's, rebuilt on the default branch each time) and opens
// or updates its pull request. A branch a person pushed to is left alone.
func (o *Ops) writePromotion(ctx context.Context, req PromoteRequest, defaultBranch, base string, files map[string][]byte, p comments.Promotion) (*PromoteResult, error) {
	log := zerolog.Ctx(ctx)
	branch := comments.PromotionBranch(req.From, req.To)
	cur, exists, err := req.Client.BranchSHA(ctx, req.Repo, branch)
	if err != nil {
		return nil, err
	}
	if exists {
		head, err := req.Client.Commit(ctx, req.Repo, cur)
		if err != nil {
			return nil, err
		}
		if head.Author != o.opts.BotLogin {
			r := comments.ReasonBranchChanged(branch, head.Author)
			log.Info().Str("author", head.Author).Msg("promotion refused: a person changed the bot's branch")
			return &PromoteResult{Refused: []comments.Reason{r}, Reply: comments.PromoteRefusedReply(req.Actor, r)}, nil
		}
	}
	title := comments.PromotionTitle(p)
	sha, err := req.Client.CommitFiles(ctx, req.Repo, base, files, title)
	if err != nil {
		return nil, err
	}
	if err := req.Client.SetBranch(ctx, req.Repo, branch, sha, !exists, true); err != nil {
		return nil, err
	}
	body := comments.PromotionBody(p)
	n, _, err := req.Client.OpenPullFrom(ctx, req.Repo, branch)
	if err != nil {
		return nil, err
	}
	updated := n != 0
	if updated {
		err = req.Client.EditPull(ctx, req.Repo, n, title, body)
	} else {
		n, _, err = req.Client.OpenPull(ctx, req.Repo, gh.NewPull{Head: branch, Base: defaultBranch, Title: title, Body: body})
	}
	if err != nil {
		return nil, err
	}
	log.Info().Int("promotion_pr", n).Bool("updated", updated).Str("commit", comments.ShortSHA(sha)).Msg("promotion pull request")
	return &PromoteResult{Number: n, Updated: updated, Reply: comments.PromoteReply(req.From, req.To, n, updated)}, nil
}

func joinNames(names []string) string {
	if len(names) == 0 {
		return "(none)"
	}
	out := names[0]
	for _, n := range names[1:] {
		out += ", " + n
	}
	return out
}
