package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// botApply runs `bot apply` (in this process; its render child is this
// test binary re-executed, as for `bot plan`).
func botApply(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, append([]string{"apply"}, args...), nil, &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

func TestBotApplyEndToEnd(t *testing.T) {
	ns := "e2e-bot-apply-" + randomSuffix() // random: the test can run again (-count) against the same cluster
	repo, cfg := setup(t, ns)
	base := []string{"--repo", repo, "--config", cfg, "--env", "dev", "--repo-name", "acme/e2e-apply"}
	cs := cluster.Client()

	// A digest that is not the current plan's: refused, the plan shown,
	// nothing written.
	out, stderr, code := botApply(t, append(base, "--digest", "sha256:0000")...)
	if code != 1 || !strings.Contains(out, "the plan changed since it was shown") || !strings.Contains(out, "Plan: 3 to create") {
		t.Fatalf("stale digest: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	if _, err := cs.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("namespace exists after a refused apply (err %v)", err)
	}

	// --yes applies the plan just computed: the plan, per-object progress
	// and the convergence result are printed; exit 0.
	out, stderr, code = botApply(t, append(base, "--yes")...)
	if code != 0 {
		t.Fatalf("--yes: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	for _, want := range []string{
		"Plan: 3 to create",
		"applied        Namespace/" + ns,
		"applied        ConfigMap/" + ns + "/settings",
		"applied        Secret/" + ns + "/creds",
		"result: converged",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, v := range []string{secretMarker, base64.StdEncoding.EncodeToString([]byte(secretMarker))} {
		if strings.Contains(out+stderr, v) {
			t.Error("output contains the Secret value")
		}
	}
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(context.Background(), "settings", metav1.GetOptions{})
	if err != nil || cm.Data["color"] != "blue" {
		t.Fatalf("configmap not applied: %v %v", cm, err)
	}

	// A broken environment: exit 1, nothing applied.
	out, _, code = botApply(t, "--repo", repo, "--config", cfg, "--env", "broken", "--repo-name", "acme/e2e-apply", "--yes")
	if code != 1 || !strings.Contains(out, "no-such-namespace-e2e") {
		t.Fatalf("broken env: exit %d\n%s", code, out)
	}
}

func TestBotApplyFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--repo", "r", "--config", "c", "--env", "dev", "--repo-name", "a/b"}, "--digest D (from `bot plan`) and --yes"},
		{[]string{"--repo", "r", "--config", "c", "--env", "dev", "--repo-name", "a/b", "--yes", "--digest", "x"}, "--digest D (from `bot plan`) and --yes"},
		{[]string{"--repo", "r", "--config", "c", "--env", "dev", "--yes"}, "--repo-name owner/name is required"},
		{[]string{"--repo", "r", "--config", "c", "--all", "--repo-name", "a/b", "--digest", "x"}, "use it with --env"},
	} {
		_, stderr, code := botApply(t, tc.args...)
		if code != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("bot apply %v: exit %d, stderr:\n%s\nwant %q", tc.args, code, stderr, tc.want)
		}
	}
}
