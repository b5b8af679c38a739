package applier

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestPodFailure covers the container states kwok cannot produce (it runs
// no containers): each is what a real kubelet reports.
func TestPodFailure(t *testing.T) {
	waiting := func(reason, msg string, restarts int32) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: "app", RestartCount: restarts,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}}
	}
	oomThenRunning := corev1.ContainerStatus{Name: "app", RestartCount: 2,
		State:                corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137}}}
	for _, tc := range []struct {
		name   string
		init   []corev1.ContainerStatus
		main   []corev1.ContainerStatus
		failed bool
		want   string
	}{
		{name: "image pull backoff", main: []corev1.ContainerStatus{waiting("ImagePullBackOff", `Back-off pulling image "nginx:nope"`, 0)},
			failed: true, want: `container app: ImagePullBackOff: Back-off pulling image "nginx:nope" (restarts: 0)`},
		{name: "err image pull", main: []corev1.ContainerStatus{waiting("ErrImagePull", "not found", 0)}, failed: true, want: "ErrImagePull"},
		{name: "config error", main: []corev1.ContainerStatus{waiting("CreateContainerConfigError", `secret "db" not found`, 0)},
			failed: true, want: `CreateContainerConfigError: secret "db" not found`},
		{name: "init container crashloop", init: []corev1.ContainerStatus{waiting("CrashLoopBackOff", "", 4)},
			failed: true, want: "init container app: CrashLoopBackOff (restarts: 4)"},
		{name: "oom killed, restarted, not ready", main: []corev1.ContainerStatus{oomThenRunning}, failed: true, want: "OOMKilled (restarts: 2)"},
		{name: "still creating", main: []corev1.ContainerStatus{waiting("ContainerCreating", "", 0)}, failed: false},
		{name: "pulling for the first time", main: []corev1.ContainerStatus{waiting("PodInitializing", "", 0)}, failed: false},
		{name: "running", main: []corev1.ContainerStatus{{Name: "app", Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}, failed: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &corev1.Pod{Status: corev1.PodStatus{InitContainerStatuses: tc.init, ContainerStatuses: tc.main}}
			got, failed := podFailure(p)
			if failed != tc.failed {
				t.Fatalf("failed = %v (%q), want %v", failed, got, tc.failed)
			}
			if !strings.Contains(got, tc.want) {
				t.Fatalf("reason = %q, want it to contain %q", got, tc.want)
			}
		})
	}
}
