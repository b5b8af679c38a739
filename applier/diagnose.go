package applier

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/rs/zerolog"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Limits that keep a diagnosis readable in a PR comment: a failed rollout
// of 500 Deployments is explained by its first few.
const (
	maxDiagnosedWorkloads = 10
	maxPodsPerWorkload    = 3
	maxEventsPerWorkload  = 10
	logTailLines          = 20
	logTimeout            = 5 * time.Second
)

// diagnoseAll explains every workload that failed or had not converged:
// its current pods' container states and restarts, recent Events, and the
// last log lines. What cannot be read is left out rather than failing the
// wait.
func (w *Waiter) diagnoseAll(ctx context.Context, objs []*tracked) {
	byNS := map[string][]*tracked{}
	n := 0
	for _, t := range objs {
		if t.status == StatusCurrent || t.obj == nil || !isWorkload(t.ref) {
			continue
		}
		if n == maxDiagnosedWorkloads {
			break
		}
		n++
		byNS[t.ref.Namespace] = append(byNS[t.ref.Namespace], t)
	}
	logs := &logFetcher{w: w}
	for ns, ts := range byNS {
		idx, err := w.indexPods(ctx, ns, needsReplicaSets(ts))
		if err != nil {
			zerolog.Ctx(ctx).Debug().Err(err).Msg("diagnose: list pods")
			continue
		}
		events, err := w.c.core.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			zerolog.Ctx(ctx).Debug().Err(err).Msg("diagnose: list events")
			events = &corev1.EventList{}
		}
		for _, t := range ts {
			t.diag = w.diagnose(ctx, t, idx, events.Items, logs)
		}
	}
}

func (w *Waiter) diagnose(ctx context.Context, t *tracked, idx *podIndex, events []corev1.Event, logs *logFetcher) *Diagnosis {
	d := &Diagnosis{}
	uids := map[types.UID]bool{t.obj.GetUID(): true}
	if t.ref.Kind == "Deployment" {
		if rs := idx.currentRS(t.obj); rs != nil {
			uids[rs.UID] = true
		}
	}
	pods := idx.current(t.obj)
	// Failing pods first: they are the ones that explain.
	sort.SliceStable(pods, func(i, j int) bool {
		_, fi := podFailure(pods[i])
		_, fj := podFailure(pods[j])
		return fi && !fj
	})
	for i, p := range pods {
		uids[p.UID] = true
		if i >= maxPodsPerWorkload {
			d.PodsOmitted++
			continue
		}
		ps := podState(p)
		for ci := range ps.Containers {
			c := &ps.Containers[ci]
			if c.Ready || (c.Restarts == 0 && c.State != "terminated" && !failingWaitReasons[c.Reason]) {
				continue
			}
			c.Logs, c.LogsError = logs.tail(ctx, p, c.Name, c.Restarts > 0 && c.State != "terminated")
		}
		d.Pods = append(d.Pods, ps)
	}
	d.Events = recentEvents(events, uids)
	return d
}

func podState(p *corev1.Pod) PodState {
	ps := PodState{Name: p.Name, Phase: string(p.Status.Phase)}
	if p.Status.Reason != "" {
		ps.Message = p.Status.Reason + suffix(p.Status.Message)
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			ps.Message = c.Reason + suffix(c.Message)
		}
	}
	for _, cs := range p.Status.InitContainerStatuses {
		ps.Containers = append(ps.Containers, containerState(cs, true))
	}
	for _, cs := range p.Status.ContainerStatuses {
		ps.Containers = append(ps.Containers, containerState(cs, false))
	}
	return ps
}

func containerState(cs corev1.ContainerStatus, init bool) ContainerState {
	c := ContainerState{Name: cs.Name, Init: init, Ready: cs.Ready, Restarts: cs.RestartCount}
	switch {
	case cs.State.Waiting != nil:
		c.State, c.Reason, c.Message = "waiting", cs.State.Waiting.Reason, truncate(cs.State.Waiting.Message, 300)
	case cs.State.Terminated != nil:
		t := cs.State.Terminated
		c.State, c.Reason, c.Message, c.ExitCode = "terminated", t.Reason, truncate(t.Message, 300), t.ExitCode
	case cs.State.Running != nil:
		c.State = "running"
	}
	if t := cs.LastTerminationState.Terminated; t != nil {
		c.LastTermination = fmt.Sprintf("%s (exit code %d)", t.Reason, t.ExitCode)
	}
	return c
}

// recentEvents are the newest Events about the given objects, oldest first.
func recentEvents(all []corev1.Event, uids map[types.UID]bool) []Event {
	var out []Event
	for _, e := range all {
		if !uids[e.InvolvedObject.UID] {
			continue
		}
		out = append(out, Event{
			Type:    e.Type,
			Reason:  e.Reason,
			Object:  e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name,
			Message: truncate(strings.TrimSpace(e.Message), 300),
			Count:   max(e.Count, 1),
			Last:    eventTime(e),
		})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Last.Before(out[j].Last) })
	if len(out) > maxEventsPerWorkload {
		out = out[len(out)-maxEventsPerWorkload:]
	}
	return out
}

func eventTime(e corev1.Event) time.Time {
	switch {
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

// logFetcher reads container logs, giving up for the rest of the diagnosis
// once the cluster has shown it cannot serve them (no kubelet behind the
// node, as with kwok): every further try would only wait for its timeout.
type logFetcher struct {
	w           *Waiter
	unavailable string
}

func (l *logFetcher) tail(ctx context.Context, p *corev1.Pod, container string, previous bool) ([]string, string) {
	if l.unavailable != "" {
		return nil, l.unavailable
	}
	lines := int64(logTailLines)
	ctx, cancel := context.WithTimeout(ctx, logTimeout)
	defer cancel()
	raw, err := l.w.c.core.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{
		Container: container, TailLines: &lines, Previous: previous,
	}).DoRaw(ctx)
	if err != nil {
		l.unavailable = "logs not fetched: the cluster could not serve them for another pod"
		return nil, "logs unavailable: " + truncate(err.Error(), 200)
	}
	text := strings.TrimRight(string(raw), "\n")
	if text == "" {
		return nil, ""
	}
	return strings.Split(text, "\n"), ""
}
