package planner

import (
	"context"
	"errors"
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/tugboatops/tugboat/internal/panics"
)

// Live objects are read with one LIST per kind and namespace when a plan
// holds at least listThreshold objects of that kind there (one request
// instead of hundreds), else with one GET each (a LIST of a namespace full
// of unrelated objects would cost more than a few GETs).
//
// Secrets are the exception: a namespace's Secrets include blobs that are
// none of the plan's business (a Helm release Secret holds a whole chart's
// manifests, up to 1 MiB each), and a LIST would load every one of them
// into the bot. They are LISTed only by the ApplySet's membership label
// (what tugboat applied before), and the rest are read by name.
const (
	listThreshold = 8
	listPageSize  = 500
)

// secretsGVR is what never gets an unselective LIST.
var secretsGVR = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

type groupKey struct {
	gvr       schema.GroupVersionResource
	namespace string
}

// liveGroup is a LIST of one kind in one namespace, read once and shared by
// every object planned there. Each object takes its own entry out, so live
// objects are freed as soon as their diff is made.
type liveGroup struct {
	// selector, when set, LISTs only the objects it selects (the ApplySet's
	// members); the others are read by name (take says errNotListed).
	selector string
	done     chan struct{}
	mu       sync.Mutex
	items    map[string]*unstructured.Unstructured
	err      error
}

func newLiveGroup(selector string) *liveGroup {
	return &liveGroup{selector: selector, done: make(chan struct{})}
}

// errNotListed is take's answer for an object a selective LIST does not
// cover: it may exist all the same, and is read by name.
var errNotListed = errors.New("not among the listed objects")

func (g *liveGroup) fetch(ctx context.Context, dyn dynamic.Interface, k groupKey) {
	defer close(g.done)
	// A crashed LIST is a failed LIST: its objects are read one by one.
	defer panics.Recover(ctx, &g.err)
	items := map[string]*unstructured.Unstructured{}
	opts := metav1.ListOptions{Limit: listPageSize, LabelSelector: g.selector}
	for {
		list, err := dyn.Resource(k.gvr).Namespace(k.namespace).List(ctx, opts)
		if err != nil {
			g.err = fmt.Errorf("list %s in %q: %w", k.gvr.Resource, k.namespace, err)
			return
		}
		for i := range list.Items {
			items[list.Items[i].GetName()] = &list.Items[i]
		}
		if list.GetContinue() == "" {
			break
		}
		opts.Continue = list.GetContinue()
	}
	g.items = items
}

// ready reports whether the LIST has finished (successfully or not).
func (g *liveGroup) ready() bool {
	select {
	case <-g.done:
		return true
	default:
		return false
	}
}

// take returns the live object called name (nil when it does not exist).
func (g *liveGroup) take(ctx context.Context, name string) (*unstructured.Unstructured, error) {
	select {
	case <-g.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if g.err != nil {
		return nil, g.err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	obj, ok := g.items[name]
	if !ok && g.selector != "" {
		return nil, errNotListed
	}
	delete(g.items, name)
	return obj, nil
}

// getLive reads one object; nil when it does not exist.
func getLive(ctx context.Context, dyn dynamic.Interface, gvr schema.GroupVersionResource, ns, name string) (*unstructured.Unstructured, error) {
	obj, err := dyn.Resource(gvr).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get live object: %w", err)
	}
	return obj, nil
}
