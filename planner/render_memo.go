package planner

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"sync"

	"github.com/tugboatops/tugboat/config"
)

// RenderMemo renders each tree once per environment, for work that renders
// the same trees more than once: ops renders a pull request's base and
// merge trees to tell which environments it affects, then plans those
// environments from the same two trees. Each render is a sandboxed child
// process; the second one would only repeat the first.
//
// Mark each tree with Tree, and pass the memo as Input.Renderer so the
// planner renders through it too. A memo serves one piece of work (one
// PlanPR run) and keeps its renders until it is dropped. It is safe for
// concurrent use: callers asking for a render under way wait for it.
type RenderMemo struct {
	renderer ManifestRenderer

	mu      sync.Mutex
	renders map[memoKey]*memoRender
}

// memoKey names one render. A render depends on the tree and the
// environment's path; the name is in its error messages.
type memoKey struct {
	tree, env, path string
}

// memoRender is one render, done once done is closed.
type memoRender struct {
	done  chan struct{}
	objs  []Object
	probs []Problem
	err   error
}

// NewRenderMemo returns a memo rendering with r.
func NewRenderMemo(r ManifestRenderer) *RenderMemo {
	return &RenderMemo{renderer: r, renders: map[memoKey]*memoRender{}}
}

// Tree marks fsys as the tree named id (its commit SHA, say): renders of
// the tree this returns, through m, are shared. id must name one tree for
// the memo's whole life. The result reads like fsys.
func (m *RenderMemo) Tree(id string, fsys fs.FS) fs.FS {
	return memoTree{FS: fsys, id: id, memo: m}
}

// memoTree is a tree marked for a memo. It passes the optional interfaces
// of io/fs on, so marking a tree does not slow down its readers.
type memoTree struct {
	fs.FS
	id   string
	memo *RenderMemo
}

func (t memoTree) ReadFile(name string) ([]byte, error)       { return fs.ReadFile(t.FS, name) }
func (t memoTree) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(t.FS, name) }
func (t memoTree) Stat(name string) (fs.FileInfo, error)      { return fs.Stat(t.FS, name) }

// Render implements ManifestRenderer. A tree marked with m's Tree is
// rendered once per environment; others are rendered every time. Each
// caller gets objects of its own, so none can change what another sees. A
// failure of the renderer itself (the error; its context ended, the child
// could not start) is not remembered: the next caller tries again.
func (m *RenderMemo) Render(ctx context.Context, repo fs.FS, env config.Environment) ([]Object, []Problem, error) {
	t, ok := repo.(memoTree)
	if !ok || t.memo != m {
		return m.renderer.Render(ctx, repo, env)
	}
	key := memoKey{tree: t.id, env: env.Name, path: env.Path}
	m.mu.Lock()
	r, found := m.renders[key]
	if !found {
		r = &memoRender{done: make(chan struct{})}
		m.renders[key] = r
	}
	m.mu.Unlock()

	if found {
		select {
		case <-r.done:
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("render %s: %w", env.Name, ctx.Err())
		}
	} else {
		r.objs, r.probs, r.err = m.renderer.Render(ctx, t.FS, env)
		if r.err != nil {
			m.mu.Lock()
			delete(m.renders, key)
			m.mu.Unlock()
		}
		close(r.done)
	}
	if r.err != nil {
		return nil, nil, r.err
	}
	objs := make([]Object, len(r.objs))
	for i, o := range r.objs {
		objs[i] = Object{Obj: o.Obj.DeepCopy(), Source: o.Source}
	}
	return objs, slices.Clone(r.probs), nil
}
