package ops

import (
	"context"
	"fmt"
	"strings"

	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/gh"
)

// publish posts the comment set of headSHA: parts already posted for that
// commit are edited in place (found by their markers) and stale
// continuations deleted; when the commit has no set yet, every earlier set
// is first minimized as OUTDATED. It returns the main comment's URL.
func (o *Ops) publish(ctx context.Context, pr PR, headSHA string, parts []string) (string, error) {
	existing, err := pr.Client.Comments(ctx, pr.Repo, pr.Number)
	if err != nil {
		return "", err
	}
	same := map[int]gh.Comment{}
	var older []gh.Comment
	for _, cm := range existing {
		if cm.Author != o.opts.BotLogin {
			continue
		}
		m, ok := comments.ParseMarker(cm.Body)
		if !ok {
			continue
		}
		if m.SHA == headSHA {
			same[m.Part] = cm
		} else {
			older = append(older, cm)
		}
	}
	if len(same) == 0 {
		o.minimize(ctx, pr, older)
	}
	var mainURL string
	for i, body := range parts {
		cm, ok := same[i+1]
		switch {
		case !ok:
			cm, err = pr.Client.CreateComment(ctx, pr.Repo, pr.Number, body)
		case cm.Body != body:
			cm, err = pr.Client.EditComment(ctx, pr.Repo, cm.ID, body)
		}
		if err != nil {
			return "", fmt.Errorf("plan comment part %d of %d: %w", i+1, len(parts), err)
		}
		if i == 0 {
			mainURL = cm.HTMLURL
		}
	}
	for part, cm := range same {
		if part > len(parts) {
			if err := pr.Client.DeleteComment(ctx, pr.Repo, cm.ID); err != nil {
				return "", err
			}
		}
	}
	return mainURL, nil
}

// hasPlanComments reports whether the bot posted a plan on the PR before.
func (o *Ops) hasPlanComments(ctx context.Context, pr PR) (bool, error) {
	return o.hasPlanCommentsFor(ctx, pr, "")
}

// hasPlanCommentsFor reports whether the bot posted a plan comment for
// head on the pull request ("" for any head).
func (o *Ops) hasPlanCommentsFor(ctx context.Context, pr PR, head string) (bool, error) {
	existing, err := pr.Client.Comments(ctx, pr.Repo, pr.Number)
	if err != nil {
		return false, err
	}
	for _, cm := range existing {
		if m, ok := comments.ParseMarker(cm.Body); ok && cm.Author == o.opts.BotLogin && (head == "" || m.SHA == head) {
			return true, nil
		}
	}
	return false, nil
}

// minimize hides comments as OUTDATED, skipping those this process
// already hid. A failure is logged, not fatal: an outdated comment left
// visible is untidy, a plan not posted is a failure.
func (o *Ops) minimize(ctx context.Context, pr PR, cms []gh.Comment) {
	for _, cm := range cms {
		o.mu.Lock()
		done := o.minimized[cm.NodeID]
		o.mu.Unlock()
		if done {
			continue
		}
		if err := pr.Client.MinimizeOutdated(ctx, cm.NodeID); err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Int64("comment", cm.ID).Msg("could not minimize an outdated comment")
			continue
		}
		o.mu.Lock()
		o.minimized[cm.NodeID] = true
		o.mu.Unlock()
	}
}

// noteMarker starts a note the bot posts once per key.
func noteMarker(key string) string { return "<!-- tugboat:note " + key + " -->" }

// NoteOnce posts body on the pull request unless a note with the same key
// is already there (keys such as "fork" or "conflict-<sha>" keep a
// repeated event from repeating the note).
func (o *Ops) NoteOnce(ctx context.Context, pr PR, key, body string) error {
	existing, err := pr.Client.Comments(ctx, pr.Repo, pr.Number)
	if err != nil {
		return err
	}
	marker := noteMarker(key)
	for _, cm := range existing {
		if cm.Author == o.opts.BotLogin && strings.HasPrefix(cm.Body, marker+"\n") {
			return nil
		}
	}
	_, err = pr.Client.CreateComment(ctx, pr.Repo, pr.Number, marker+"\n"+body)
	return err
}

// Reply posts body on the pull request.
func (o *Ops) Reply(ctx context.Context, pr PR, body string) error {
	_, err := pr.Client.CreateComment(ctx, pr.Repo, pr.Number, body)
	return err
}

// conflict tells a conflicting pull request why it gets no plan, once per
// head commit, and hides the plans of earlier commits.
func (o *Ops) conflict(ctx context.Context, pr PR, p *gh.PullRequest) error {
	zerolog.Ctx(ctx).Info().Str("head", comments.ShortSHA(p.HeadSHA)).Msg("pull request conflicts with its base: not planned")
	return o.NoteOnce(ctx, pr, "conflict-"+p.HeadSHA, comments.ConflictReply(p.HeadSHA))
}
