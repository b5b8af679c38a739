package applier

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// podIndex is one namespace's pods and ReplicaSets, indexed by controller.
type podIndex struct {
	podsByOwner map[types.UID][]*corev1.Pod
	rsByOwner   map[types.UID][]*appsv1.ReplicaSet
}

// indexPods lists a namespace's pods (and ReplicaSets, for Deployments)
// once, rather than once per workload.
func (w *Waiter) indexPods(ctx context.Context, ns string, withRS bool) (*podIndex, error) {
	pods, err := w.c.core.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list pods in %s: %w", ns, err)
	}
	idx := &podIndex{podsByOwner: map[types.UID][]*corev1.Pod{}, rsByOwner: map[types.UID][]*appsv1.ReplicaSet{}}
	for i := range pods.Items {
		p := &pods.Items[i]
		if c := metav1.GetControllerOf(p); c != nil {
			idx.podsByOwner[c.UID] = append(idx.podsByOwner[c.UID], p)
		}
	}
	if withRS {
		rss, err := w.c.core.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("list replicasets in %s: %w", ns, err)
		}
		for i := range rss.Items {
			rs := &rss.Items[i]
			if c := metav1.GetControllerOf(rs); c != nil {
				idx.rsByOwner[c.UID] = append(idx.rsByOwner[c.UID], rs)
			}
		}
	}
	return idx, nil
}

// currentRS is a Deployment's ReplicaSet of its current revision.
func (idx *podIndex) currentRS(deploy *unstructured.Unstructured) *appsv1.ReplicaSet {
	const revision = "deployment.kubernetes.io/revision"
	want := deploy.GetAnnotations()[revision]
	for _, rs := range idx.rsByOwner[deploy.GetUID()] {
		if want != "" && rs.Annotations[revision] == want {
			return rs
		}
	}
	return nil
}

// current returns a workload's current pods: those of a Deployment's newest
// ReplicaSet or a StatefulSet's update revision. Old pods being replaced
// don't decide whether the rollout is failing.
func (idx *podIndex) current(obj *unstructured.Unstructured) []*corev1.Pod {
	switch obj.GetKind() {
	case "Deployment":
		rs := idx.currentRS(obj)
		if rs == nil {
			return nil
		}
		return idx.podsByOwner[rs.UID]
	case "StatefulSet":
		pods := idx.podsByOwner[obj.GetUID()]
		rev, _, _ := unstructured.NestedString(obj.Object, "status", "updateRevision")
		if rev == "" {
			return pods
		}
		var out []*corev1.Pod
		for _, p := range pods {
			if p.Labels[appsv1.ControllerRevisionHashLabelKey] == rev {
				out = append(out, p)
			}
		}
		return out
	default:
		return idx.podsByOwner[obj.GetUID()]
	}
}

// failingWaitReasons are container waiting reasons that do not go away by
// waiting: the kubelet backs off and retries, but only a change to the
// spec, the image or the environment fixes them.
var failingWaitReasons = map[string]bool{
	"CrashLoopBackOff":           true,
	"ImagePullBackOff":           true,
	"ErrImagePull":               true,
	"ErrImageNeverPull":          true,
	"InvalidImageName":           true,
	"ImageInspectError":          true,
	"CreateContainerConfigError": true,
	"CreateContainerError":       true,
	"RunContainerError":          true,
	"PreStartHookError":          true,
	"PostStartHookError":         true,
}

// podFailure says whether a pod is failing and why, in words a person
// recognises from `kubectl get pods`.
func podFailure(p *corev1.Pod) (string, bool) {
	check := func(cs corev1.ContainerStatus, kind string) (string, bool) {
		if w := cs.State.Waiting; w != nil && failingWaitReasons[w.Reason] {
			return fmt.Sprintf("%s %s: %s%s (restarts: %d)", kind, cs.Name, w.Reason, suffix(w.Message), cs.RestartCount), true
		}
		if t := cs.State.Terminated; t != nil && t.Reason == "OOMKilled" {
			return fmt.Sprintf("%s %s: OOMKilled (restarts: %d)", kind, cs.Name, cs.RestartCount), true
		}
		if t := cs.LastTerminationState.Terminated; t != nil && t.Reason == "OOMKilled" && cs.RestartCount > 0 && !cs.Ready {
			return fmt.Sprintf("%s %s: OOMKilled (restarts: %d)", kind, cs.Name, cs.RestartCount), true
		}
		return "", false
	}
	for _, cs := range p.Status.InitContainerStatuses {
		if r, ok := check(cs, "init container"); ok {
			return r, true
		}
	}
	for _, cs := range p.Status.ContainerStatuses {
		if r, ok := check(cs, "container"); ok {
			return r, true
		}
	}
	return "", false
}

func suffix(msg string) string {
	if msg == "" {
		return ""
	}
	return ": " + truncate(msg, 200)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
