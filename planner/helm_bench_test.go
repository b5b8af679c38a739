package planner

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/internal/benchtest"
)

// helmCLIOnce builds the helm CLI of the Helm version this module uses
// (`go install helm.sh/helm/v3/cmd/helm@VERSION`, with Helm's own
// dependency versions, as released) into the user cache, once.
var helmCLIOnce = sync.OnceValues(func() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "helm.sh/helm/v3").Output()
	if err != nil {
		return "", fmt.Errorf("go list -m helm.sh/helm/v3: %w", err)
	}
	version := strings.TrimSpace(string(out))
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "tugboat", "helm-"+version)
	bin := filepath.Join(dir, "helm")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	cmd := exec.Command("go", "install", "helm.sh/helm/v3/cmd/helm@"+version)
	cmd.Env = append(os.Environ(), "GOBIN="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install helm %s: %v\n%s", version, err, out)
	}
	return bin, nil
})

// BenchmarkHelmRender compares tugboat's render of a chart of Online
// Boutique's size (13 templates, 37 objects) — the whole render phase, the
// real bot binary's sandboxed child included — with `helm template` of the
// same Helm version run as a process, in the same run. Target: ≤ 1.5×.
func BenchmarkHelmRender(b *testing.B) {
	helm, err := helmCLIOnce()
	if err != nil {
		b.Fatal(err)
	}
	bot, err := benchtest.BotBinary()
	if err != nil {
		b.Fatal(err)
	}
	chartDir, err := filepath.Abs("testdata/render/helm/boutique")
	if err != nil {
		b.Fatal(err)
	}
	files := map[string][]byte{}
	err = fs.WalkDir(os.DirFS(chartDir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files["charts/boutique/"+p], err = os.ReadFile(filepath.Join(chartDir, p))
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	repo := NewMemFS(files)
	r := &Renderer{Exe: bot, Args: []string{"__render"}}
	env := config.Environment{Name: "bench", Namespace: "boutique", Helm: &config.Helm{Chart: "charts/boutique", Release: "boutique"}}
	tugboat := func() time.Duration {
		start := time.Now()
		objs, probs, err := r.Render(context.Background(), repo, env)
		took := time.Since(start)
		if err != nil || len(probs) != 0 || len(objs) != 37 {
			b.Fatalf("render: %d objects, problems %v, error %v", len(objs), problemStrings(probs), err)
		}
		return took
	}
	helmTemplate := func() time.Duration {
		start := time.Now()
		out, err := exec.Command(helm, "template", "boutique", chartDir, "--namespace", "boutique", "--kube-version", "v1.36.3").Output()
		took := time.Since(start)
		if err != nil || strings.Count(string(out), "\nkind: ") != 37 {
			b.Fatalf("helm template: %v (%d objects)", err, strings.Count(string(out), "\nkind: "))
		}
		return took
	}
	tugboat() // warm the page cache for both binaries
	helmTemplate()
	const rounds = 15
	var ours, theirs []time.Duration
	b.ResetTimer()
	for range b.N {
		for range rounds {
			ours = append(ours, tugboat())
			theirs = append(theirs, helmTemplate())
		}
	}
	b.StopTimer()
	slices.Sort(ours)
	slices.Sort(theirs)
	mo, mt := ours[len(ours)/2], theirs[len(theirs)/2]
	ratio := float64(mo) / float64(mt)
	b.ReportMetric(float64(mo.Microseconds())/1000, "tugboat-ms")
	b.ReportMetric(float64(mt.Microseconds())/1000, "helm-template-ms")
	b.ReportMetric(ratio, "ratio")
	b.Logf("render of a 13-template, 37-object chart (medians of %d): tugboat (child included) %s, helm template %s: ratio %.2f (target ≤ 1.5); render child peak RSS %s",
		len(ours), mo.Round(100*time.Microsecond), mt.Round(100*time.Microsecond), ratio, byteSize(r.PeakChildRSS()))
}
