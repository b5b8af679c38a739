package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/pflag"
	"sigs.k8s.io/kwok/pkg/config"
	kwokcmd "sigs.k8s.io/kwok/pkg/kwok/cmd"
	"sigs.k8s.io/kwok/pkg/log"
	"sigs.k8s.io/yaml"

	nodefast "sigs.k8s.io/kwok/kustomize/stage/node/fast"
	nodeheartbeat "sigs.k8s.io/kwok/kustomize/stage/node/heartbeat-with-lease"
	podfast "sigs.k8s.io/kwok/kustomize/stage/pod/fast"
)

// runKwok writes the stage set (see stages) to a config file beside the
// kubeconfig, then runs kwok as its own main does: global flags for logging
// and config files, then the kwok command.
func runKwok(args []string) error {
	stagesFile, rest, err := stagesFlag(args)
	if err != nil {
		return err
	}
	stages, err := stageSet()
	if err != nil {
		return fmt.Errorf("kwok stages: %w", err)
	}
	if err := os.WriteFile(stagesFile, []byte(stages), 0o644); err != nil {
		return fmt.Errorf("write kwok stages: %w", err)
	}

	// The Kubernetes components linked into this binary register a string
	// --version flag on pflag's global set at init; cobra merges that set
	// into kwok's command, which then clashes with kwok's bool --version.
	// This process runs only kwok, so start it from a clean global set.
	pflag.CommandLine = pflag.NewFlagSet(os.Args[0], pflag.ExitOnError)

	flagset := pflag.NewFlagSet("global", pflag.ContinueOnError)
	flagset.ParseErrorsAllowlist.UnknownFlags = true
	flagset.Usage = func() {}
	// kwok's flag helpers parse os.Args themselves: hide our role argument.
	os.Args = append([]string{os.Args[0], "--config=" + stagesFile}, rest...)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, _ = log.InitFlags(ctx, flagset)
	ctx, err = config.InitFlags(ctx, flagset)
	if err != nil {
		return fmt.Errorf("kwok config flags: %w", err)
	}
	command := kwokcmd.NewCommand(ctx)
	command.PersistentFlags().AddFlagSet(flagset)
	command.SetArgs(os.Args[1:])
	return command.ExecuteContext(ctx)
}

// stagesFlag takes our own --stages-file=PATH out of kwok's arguments.
func stagesFlag(args []string) (string, []string, error) {
	ours, rest := takeFlags(args, "stages-file")
	if ours["stages-file"] == "" {
		return "", nil, fmt.Errorf("--stages-file is required")
	}
	return filepath.Clean(ours["stages-file"]), rest, nil
}

// crashloopExpr is a kwok selector expression (jq) that is "true" for pods
// with a container whose image ends in ":crashloop".
const crashloopExpr = `.spec.containers | map(.image | endswith(":crashloop")) | any`

// stageSet is every Stage kwok runs with. Defining any Pod stage turns
// kwok's default pod stages off, so the whole set ships here: kwok's own
// node and pod stages (ready and complete amended to leave crashlooping
// pods alone), plus two stages of ours that make ":crashloop" containers
// crash-loop the way a kubelet reports it.
func stageSet() (string, error) {
	docs := []string{nodefast.DefaultNodeInit, nodeheartbeat.DefaultNodeHeartbeatWithLease, podfast.DefaultPodDelete}
	for _, raw := range []string{podfast.DefaultPodReady, podfast.DefaultPodComplete} {
		amended, err := excludeCrashloop(raw)
		if err != nil {
			return "", err
		}
		docs = append(docs, amended)
	}
	docs = append(docs, crashloopStart(), crashloopRestart())
	return strings.Join(docs, "\n---\n"), nil
}

// excludeCrashloop adds "not a :crashloop pod" to a stage's selector.
func excludeCrashloop(raw string) (string, error) {
	var stage map[string]any
	if err := yaml.Unmarshal([]byte(raw), &stage); err != nil {
		return "", err
	}
	spec, _ := stage["spec"].(map[string]any)
	selector, _ := spec["selector"].(map[string]any)
	if selector == nil {
		return "", fmt.Errorf("stage without selector")
	}
	exprs, _ := selector["matchExpressions"].([]any)
	selector["matchExpressions"] = append(exprs, map[string]any{
		"key": crashloopExpr, "operator": "NotIn", "values": []any{"true"},
	})
	out, err := yaml.Marshal(stage)
	return string(out), err
}

// crashloopStart moves a pending ":crashloop" pod to Running with its
// crashing containers waiting in CrashLoopBackOff, as a kubelet would after
// the first failed start.
func crashloopStart() string {
	return crashloopStage("pod-crashloop-start", "Pending", "", ".spec.containers", "1", `
      conditions:
      - {lastTransitionTime: {{ $now | Quote }}, status: "True", type: Initialized}
      - {lastTransitionTime: {{ $now | Quote }}, status: "False", type: Ready, reason: ContainersNotReady}
      - {lastTransitionTime: {{ $now | Quote }}, status: "False", type: ContainersReady, reason: ContainersNotReady}
      {{ with NodeIPWith .spec.nodeName }}
      hostIP: {{ . | Quote }}
      {{ end }}
      podIP: {{ PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) | Quote }}
      phase: Running
      startTime: {{ $now | Quote }}`)
}

// crashloopRestart bumps the restart count of a crash-looping pod every few
// seconds for as long as it exists.
func crashloopRestart() string {
	return crashloopStage("pod-crashloop-restart", "Running", `
  delay:
    durationMilliseconds: 3000
    jitterDurationMilliseconds: 4000`, ".status.containerStatuses", "add1 .restartCount", "")
}

// crashloopStage is a Stage for pods in phase that have a ":crashloop"
// container. Its status lists the containers ranged over (each with .name
// and .image): ":crashloop" ones waiting in CrashLoopBackOff with the given
// restart count (a template expression), the others running; extraStatus
// is appended to the status template.
func crashloopStage(name, phase, delay, containers, restartCount, extraStatus string) string {
	return `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: ` + name + `
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['` + phase + `']
    - key: '` + crashloopExpr + `'
      operator: 'In'
      values: ['true']` + delay + `
  next:
    statusTemplate: |
      {{ $now := Now }}
      containerStatuses:
      {{ range ` + containers + ` }}
      {{ if hasSuffix ":crashloop" .image }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        started: false
        restartCount: {{ ` + restartCount + ` }}
        lastState:
          terminated: {exitCode: 1, reason: Error, startedAt: {{ $now | Quote }}, finishedAt: {{ $now | Quote }}}
        state:
          waiting:
            reason: CrashLoopBackOff
            message: {{ printf "back-off restarting failed container=%s" .name | Quote }}
      {{ else }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: true
        started: true
        restartCount: 0
        state:
          running: {startedAt: {{ $now | Quote }}}
      {{ end }}
      {{ end }}` + extraStatus + "\n"
}
