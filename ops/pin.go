package ops

import (
	"context"
	"fmt"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/kube"
)

// PinnedError says an environment is pinned by a break-glass rollback:
// nothing but unpinning (`/unpin`, or merging the revert) lets writes to
// it go on.
type PinnedError struct {
	Env string
	Pin kube.Pin
}

func (e *PinnedError) Error() string {
	return fmt.Sprintf("%s is %s", e.Env, comments.PinText(commentsPin(e.Env, e.Pin)))
}

// Reason is the refusal as replies and statuses show it.
func (e *PinnedError) Reason() comments.Reason {
	return comments.ReasonPinned(commentsPin(e.Env, e.Pin))
}

func commentsPin(env string, p kube.Pin) comments.Pin {
	return comments.Pin{Env: env, Commit: p.Commit, By: p.By, Time: p.Time, RevertPR: p.RevertPR}
}

// checkPin returns a *PinnedError when env is pinned.
func (o *Ops) checkPin(ctx context.Context, env config.Environment, repo string) error {
	pin, err := o.state.Pin(ctx, env, repo)
	if err != nil {
		return fmt.Errorf("read the pin of %s: %w", env.Name, err)
	}
	if pin != nil {
		return &PinnedError{Env: env.Name, Pin: *pin}
	}
	return nil
}

// Pin implements EnvState.
func (s *KubeState) Pin(ctx context.Context, env config.Environment, repo string) (*kube.Pin, error) {
	c, err := s.cluster(env)
	if err != nil {
		return nil, err
	}
	return kube.ReadPin(ctx, c, kube.ApplySet{Repo: repo, Env: env.Name})
}

// SetPin implements EnvState.
func (s *KubeState) SetPin(ctx context.Context, env config.Environment, repo string, p kube.Pin) error {
	c, err := s.cluster(env)
	if err != nil {
		return err
	}
	return kube.SetPin(ctx, c, kube.ApplySet{Repo: repo, Env: env.Name}, p)
}

// Unpin implements EnvState.
func (s *KubeState) Unpin(ctx context.Context, env config.Environment, repo string) error {
	c, err := s.cluster(env)
	if err != nil {
		return err
	}
	return kube.Unpin(ctx, c, kube.ApplySet{Repo: repo, Env: env.Name})
}
