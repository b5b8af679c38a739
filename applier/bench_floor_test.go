package applier

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// convergenceFloor is the cluster's own floor for an apply and wait of
// docs: every object is created by a bare dynamic client with 32 creates in
// flight, the namespace's Deployments are then listed and watched from the
// list's resource version (so no change is missed), and the time is taken
// when the last Deployment is Current (kstatus: Available, its pods updated and ready,
// as the waiter judges it). What is left is the API server's writes and the
// controller-manager and kwok rolling the Deployments out: no apply, by
// tugboat or kubectl, can end sooner. It returns the time until the last
// create was answered and until the last Deployment was Current.
func convergenceFloor(ctx context.Context, cfg *rest.Config, docs []string) (writes, total time.Duration, err error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return 0, 0, err
	}
	var ns *unstructured.Unstructured
	var objs []*unstructured.Unstructured
	deployments := 0
	for _, d := range docs {
		o := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(d), &o.Object); err != nil {
			return 0, 0, fmt.Errorf("floor: %w", err)
		}
		switch o.GetKind() {
		case "Namespace":
			ns = o
		case "Deployment":
			deployments++
			objs = append(objs, o)
		default:
			objs = append(objs, o)
		}
	}
	if ns == nil {
		return 0, 0, fmt.Errorf("floor: no Namespace in docs")
	}
	deployGVR := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	gvr := func(o *unstructured.Unstructured) schema.GroupVersionResource {
		if o.GetKind() == "Deployment" {
			return deployGVR
		}
		return schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	}
	t0 := time.Now()
	if _, err := dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}).Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return 0, 0, fmt.Errorf("floor: create namespace: %w", err)
	}
	var (
		wg    sync.WaitGroup
		next  atomic.Int64
		first error
		once  sync.Once
	)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(objs) {
					return
				}
				o := objs[i]
				if _, err := dyn.Resource(gvr(o)).Namespace(o.GetNamespace()).Create(ctx, o, metav1.CreateOptions{}); err != nil {
					once.Do(func() { first = fmt.Errorf("floor: create %s: %w", o.GetName(), err) })
				}
			}
		}()
	}
	wg.Wait()
	writes = time.Since(t0)
	if first != nil {
		return 0, 0, first
	}

	current := map[string]bool{}
	judge := func(o *unstructured.Unstructured) {
		if res, err := status.Compute(o); err == nil && res.Status == status.CurrentStatus {
			current[o.GetName()] = true
		}
	}
	// LIST, then watch from the LIST's resource version (so nothing is
	// missed); again if the API server ends the watch.
	ri := dyn.Resource(deployGVR).Namespace(ns.GetName())
	for len(current) < deployments {
		list, err := ri.List(ctx, metav1.ListOptions{})
		if err != nil {
			return 0, 0, fmt.Errorf("floor: list: %w", err)
		}
		for i := range list.Items {
			judge(&list.Items[i])
		}
		if len(current) == deployments {
			break
		}
		w, err := ri.Watch(ctx, metav1.ListOptions{ResourceVersion: list.GetResourceVersion()})
		if err != nil {
			return 0, 0, fmt.Errorf("floor: watch: %w", err)
		}
		for len(current) < deployments {
			ev, ok := <-w.ResultChan()
			if !ok {
				break
			}
			if o, isObj := ev.Object.(*unstructured.Unstructured); isObj && (ev.Type == watch.Added || ev.Type == watch.Modified) {
				judge(o)
			}
		}
		w.Stop()
		if ctx.Err() != nil {
			return 0, 0, fmt.Errorf("floor: %d of %d Deployments current: %w", len(current), deployments, ctx.Err())
		}
	}
	return writes, time.Since(t0), nil
}
