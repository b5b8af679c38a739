package main

import (
	"context"
	"fmt"
	"io"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/kube"
	"github.com/tugboatops/tugboat/ops"
)

// holdEnv takes env's apply mutex for a local write, the mutex every write
// of the bot takes (ops.KubeState.AcquireMutex): a local `bot apply` or
// `bot rollback` never interleaves with the bot's apply, merge deploy or
// heal of the same environment, nor with another person's local write,
// and what it plans under the mutex is what it applies. When the mutex is
// held it says by whom before it waits (until ctx ends).
func (l *local) holdEnv(ctx context.Context, env config.Environment, out io.Writer) (context.Context, func(), error) {
	c, err := l.clusters.Cluster(env.Cluster)
	if err != nil {
		return nil, nil, err
	}
	set := kube.ApplySet{Repo: l.input.RepoName, Env: env.Name}
	if holder, live, err := kube.MutexHolder(ctx, c, set); err == nil && live {
		fmt.Fprintf(out, "%s: waiting for the apply mutex, held by %s\n", env.Name, holder)
	}
	st := &ops.KubeState{Clusters: l.clusters, Identity: kube.ProcessIdentity()}
	return st.AcquireMutex(ctx, env, l.input.RepoName)
}

// refusePinned fails when env is pinned (a break-glass rollback): like the
// bot's own writes, a local apply leaves a pinned environment alone until
// it is unpinned. Checked under the apply mutex.
func (l *local) refusePinned(ctx context.Context, env config.Environment) error {
	c, err := l.clusters.Cluster(env.Cluster)
	if err != nil {
		return err
	}
	p, err := kube.ReadPin(ctx, c, kube.ApplySet{Repo: l.input.RepoName, Env: env.Name})
	if err != nil {
		return fmt.Errorf("read the pin of %s: %w", env.Name, err)
	}
	if p == nil {
		return nil
	}
	return fmt.Errorf("%s is %s (%s): nothing applied; unpin it first (/unpin %s, or bot rollback --env %s --unpin)",
		env.Name, comments.PinText(comments.Pin{Env: env.Name, Commit: p.Commit, By: p.By}), p.Reason, env.Name, env.Name)
}
