package applier

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/tugboatops/tugboat/internal/panics"
)

// A wait watches the kinds it waits for, so it ends as soon as the last
// object is ready rather than at the next poll: with a poll every second,
// a wait took up to a second longer than the rollout, and every round
// re-read every pending object (500 Deployments LISTed each second while
// the cluster's controllers roll them out on the same CPUs). The polls stay,
// at the wait's Interval, for what a watch of the objects themselves does
// not show: their pods failing, and objects no watch reports (without the
// ApplySet label, or whose watch cannot start).
//
// Why not kstatus' watcher (cli-utils pkg/kstatus/watcher): fluxcd's
// cli-utils fork brings it, but it reports through its own event stream of
// kstatus results, knows nothing of pods, and needs a RESTMapper-driven
// informer per kind and namespace; what the waiter needs is only "this
// object changed, judge it again", which one watch per group gives.

// watchKey names one watched object.
type watchKey struct {
	gvr       schema.GroupVersionResource
	namespace string
	name      string
}

// watchEvent is the latest state of one object seen by a watch; obj is nil
// when it was deleted.
type watchEvent struct {
	obj *unstructured.Unstructured
}

// watchSet runs one watch per group of pending objects and coalesces what
// they see: only each object's latest state is kept until the waiting
// goroutine takes it.
type watchSet struct {
	mu     sync.Mutex
	latest map[watchKey]watchEvent
	notify chan struct{} // capacity 1: "something is waiting in latest"
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// watchRetry is the pause before a watch that failed to start is tried
// again (the polls go on meanwhile).
const watchRetry = time.Second

// watch starts watching every group of pending objects. The selector (the
// ApplySet's label) keeps each watch to the set's objects; without one, a
// group of a single object is watched by name.
func (w *Waiter) watch(ctx context.Context, groups map[groupKey][]*tracked, selector string) *watchSet {
	ctx, cancel := context.WithCancel(ctx)
	s := &watchSet{latest: map[watchKey]watchEvent{}, notify: make(chan struct{}, 1), cancel: cancel}
	for k, ts := range groups {
		opts := metav1.ListOptions{LabelSelector: selector, AllowWatchBookmarks: true}
		if selector == "" && len(ts) == 1 {
			opts.FieldSelector = fields.OneTermEqualSelector("metadata.name", ts[0].ref.Name).String()
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			var crashed error
			defer func() {
				if crashed != nil {
					zerolog.Ctx(ctx).Warn().Err(crashed).Str("resource", k.gvr.String()).Msg("wait: watch crashed; polling only")
				}
			}()
			defer panics.Recover(ctx, &crashed)
			s.follow(ctx, w, k, opts)
		}()
	}
	return s
}

// follow watches one group until ctx ends, starting again where it left
// off when the API server ends the watch, and from the current state when
// it can no longer resume (410 Gone).
func (s *watchSet) follow(ctx context.Context, w *Waiter, k groupKey, opts metav1.ListOptions) {
	ri := w.c.dyn.Resource(k.gvr).Namespace(k.namespace)
	for ctx.Err() == nil {
		wi, err := ri.Watch(ctx, opts)
		if err != nil {
			zerolog.Ctx(ctx).Debug().Err(err).Str("resource", k.gvr.String()).Msg("wait: watch")
			opts.ResourceVersion = ""
			select {
			case <-ctx.Done():
			case <-time.After(watchRetry):
			}
			continue
		}
		opts.ResourceVersion = s.consume(k, wi)
		wi.Stop()
	}
}

// consume reads one watch until it ends and returns the resource version to
// resume from ("" when it cannot be resumed).
func (s *watchSet) consume(k groupKey, wi watch.Interface) string {
	rv := ""
	for ev := range wi.ResultChan() {
		o, ok := ev.Object.(*unstructured.Unstructured)
		switch {
		case ev.Type == watch.Error || !ok:
			return "" // such as 410 Gone: start again from now
		case ev.Type == watch.Bookmark:
		case ev.Type == watch.Deleted:
			s.put(watchKey{k.gvr, k.namespace, o.GetName()}, watchEvent{})
		default:
			s.put(watchKey{k.gvr, k.namespace, o.GetName()}, watchEvent{obj: o})
		}
		if ok {
			rv = o.GetResourceVersion()
		}
	}
	return rv
}

func (s *watchSet) put(k watchKey, ev watchEvent) {
	s.mu.Lock()
	s.latest[k] = ev
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// take returns what the watches saw since the last take.
func (s *watchSet) take() map[watchKey]watchEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.latest
	s.latest = map[watchKey]watchEvent{}
	return out
}

// stop ends every watch and waits for them.
func (s *watchSet) stop() {
	s.cancel()
	s.wg.Wait()
}

// applyEvents judges again every pending object a watch saw change and
// reports status changes to onChange.
func applyEvents(evs map[watchKey]watchEvent, byKey map[watchKey]*tracked, onChange func(ObjectStatus)) {
	for k, ev := range evs {
		t, ok := byKey[k]
		if !ok || t.status == StatusCurrent {
			continue // not waited for, or done: polls leave those alone too
		}
		before := t.status
		if ev.obj == nil {
			// Gone from the watch: deleted, or no longer labelled as the
			// selector expects. The next poll reads it by name to tell.
			t.status, t.message, t.obj = StatusNotFound, "not found in the cluster", nil
			t.watched = false
		} else {
			t.set(ev.obj)
			t.watched = true
		}
		if onChange != nil && t.status != before {
			onChange(t.result())
		}
	}
}

// watchKeys indexes the tracked objects of groups by the key their watch
// events carry.
func watchKeys(groups map[groupKey][]*tracked) map[watchKey]*tracked {
	byKey := map[watchKey]*tracked{}
	for k, ts := range groups {
		for _, t := range ts {
			byKey[watchKey{k.gvr, k.namespace, t.ref.Name}] = t
		}
	}
	return byKey
}
