package planner

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	kubefake "helm.sh/helm/v3/pkg/kube/fake"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
	"helm.sh/helm/v3/pkg/strvals"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/tugboatops/tugboat/config"
)

// HelmCapabilities is what a chart sees as .Capabilities: the target
// cluster's version and the API versions it serves ("apps/v1", and
// "apps/v1/Deployment" for each kind, as Helm lists them), rather than
// Helm's built-in defaults.
type HelmCapabilities struct {
	KubeVersion string   `json:"kubeVersion"`
	APIVersions []string `json:"apiVersions"`
}

// HelmRender is one Helm environment's render: the chart and values from
// the environment's config, the namespace for .Release.Namespace and the
// target cluster's capabilities (nil: Helm's defaults, as `helm template`
// uses).
type HelmRender struct {
	Helm         config.Helm       `json:"helm"`
	Namespace    string            `json:"namespace"`
	Capabilities *HelmCapabilities `json:"capabilities,omitempty"`
}

// RenderHelmInProcess renders a chart of repo as `helm template` would,
// with Helm's own install action in client dry-run mode (what `helm
// install --dry-run` runs, minus the cluster). It has no time or memory
// limit of its own: outside tests it runs inside the render child.
//
// The repository is untrusted: only the chart's own files (and its
// vendored subcharts under charts/) and the values files are read,
// symbolic links are refused, nothing is fetched (a dependency that is not
// vendored is a problem), `lookup` finds nothing, and no plugins or
// post-renderers run.
func RenderHelmInProcess(repo fs.FS, hr HelmRender, lim Limits) ([]Object, []Problem) {
	lim = lim.withDefaults()
	h := hr.Helm
	c, paths, probs := loadChart(repo, h.Chart, lim)
	if len(probs) > 0 {
		return nil, probs
	}
	if err := action.CheckDependencies(c, c.Metadata.Dependencies); err != nil {
		return nil, []Problem{{Source: Location{File: path.Join(h.Chart, "Chart.yaml"), Line: lineOf(repo, path.Join(h.Chart, "Chart.yaml"), "dependencies:")},
			Message: "helm: " + err.Error() + " (renders never download charts: vendor each dependency under charts/, with `helm dependency build`)"}}
	}
	vals, probs := helmValues(repo, h)
	if len(probs) > 0 {
		return nil, probs
	}
	rel, err := helmInstall(c, vals, hr)
	if err != nil {
		return nil, []Problem{helmProblem(repo, paths, h.Chart, err)}
	}
	objs, probs := helmObjects(repo, paths, rel.Manifest, lim)
	if len(objs) > lim.MaxObjects {
		return nil, capProblems(append([]Problem{limitProblem(errTooManyObjects(lim), h.Chart)}, probs...))
	}
	probs = append(probs, hookNote(paths, rel.Hooks)...)
	return objs, capProblems(probs)
}

// helmInstall runs Helm's install action as a client-side dry-run on an
// in-memory release store and a kube client that does nothing, with the
// capabilities preset: Helm's ClientOnly mode (`helm template`) would add
// its own defaults to the API versions, and the chart must see the target
// cluster's. A client dry-run never contacts a cluster, so `lookup`
// returns nothing.
func helmInstall(c *chart.Chart, vals map[string]any, hr HelmRender) (*release.Release, error) {
	caps, err := helmCapabilities(hr.Capabilities)
	if err != nil {
		return nil, err
	}
	store := driver.NewMemory()
	ns := hr.Namespace
	if ns == "" {
		ns = "default" // what helm template says without --namespace
	}
	store.SetNamespace(ns)
	cfg := &action.Configuration{
		Releases:     storage.Init(store),
		KubeClient:   &kubefake.PrintingKubeClient{Out: io.Discard, LogOutput: io.Discard},
		Capabilities: caps,
		Log:          func(string, ...any) {},
	}
	in := action.NewInstall(cfg)
	in.DryRun = true
	in.DryRunOption = "client"
	in.ReleaseName = hr.Helm.Release
	in.Namespace = ns
	in.Replace = true
	in.IncludeCRDs = true // CRDs are planned (first), like any CRD
	in.DisableHooks = false
	return in.Run(c, vals)
}

// helmCapabilities builds Helm's Capabilities from the cluster's.
func helmCapabilities(hc *HelmCapabilities) (*chartutil.Capabilities, error) {
	caps := chartutil.DefaultCapabilities.Copy()
	if hc == nil {
		return caps, nil
	}
	kv, err := chartutil.ParseKubeVersion(hc.KubeVersion)
	if err != nil {
		return nil, fmt.Errorf("cluster version %q: %w", hc.KubeVersion, err)
	}
	caps.KubeVersion = *kv
	caps.APIVersions = slices.Clone(hc.APIVersions)
	return caps, nil
}

// helmValues merges the values files in order and then the set entries,
// as helm's -f and --set do. (Helm's values.Options reads files from the
// OS file system; a render reads only the in-memory repository, so its
// merge is repeated here.)
func helmValues(repo fs.FS, h config.Helm) (map[string]any, []Problem) {
	vals := map[string]any{}
	for _, f := range h.Values {
		data, err := fs.ReadFile(repo, f)
		if err != nil {
			return nil, []Problem{{Source: Location{File: f}, Message: fmt.Sprintf("helm: values file %s: %v", f, notExistText(err))}}
		}
		if p := aliasBomb(f, data); p != nil {
			return nil, []Problem{*p}
		}
		cur := map[string]any{}
		if err := sigsyaml.Unmarshal(data, &cur); err != nil {
			p := yamlProblem(f, chunk{line: 1, data: data}, err)
			p.Message = "helm: values file: " + p.Message
			return nil, []Problem{p}
		}
		vals = mergeValues(vals, cur)
	}
	for _, s := range h.Set {
		// strvals splits on commas; a value's own commas are escaped so
		// that one entry sets one value.
		v := strings.NewReplacer(`\`, `\\`, `,`, `\,`).Replace(s.Value)
		if err := strvals.ParseInto(s.Key+"="+v, vals); err != nil {
			return nil, []Problem{{Message: fmt.Sprintf("helm: set %s: %v", s.Key, err)}}
		}
	}
	return vals, nil
}

// mergeValues is helm's values merge: maps merge key by key, anything else
// in b replaces what a has.
func mergeValues(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if v, ok := v.(map[string]any); ok {
			if bv, ok := out[k].(map[string]any); ok {
				out[k] = mergeValues(bv, v)
				continue
			}
		}
		out[k] = v
	}
	return out
}

func notExistText(err error) string {
	if errors.Is(err, fs.ErrNotExist) {
		return "does not exist in the repository"
	}
	return err.Error()
}

// lineOf is the 1-based line of the first line of file starting with
// prefix (after indentation), 0 when none does.
func lineOf(repo fs.FS, file, prefix string) int {
	data, err := fs.ReadFile(repo, file)
	if err != nil {
		return 0
	}
	for i, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), prefix) {
			return i + 1
		}
	}
	return 0
}

// helmErrorAt finds the template and line Helm names in an error:
// "template: shop/templates/a.yaml:12:3: …", "execution error at
// (shop/templates/a.yaml:5:20): …", "parse error at (…:7): …".
var helmErrorAt = regexp.MustCompile(`([A-Za-z0-9_.\-/]+\.(?:ya?ml|tpl|txt|json)):(\d+)`)

// helmYAMLError is Helm's message for a template whose output is not YAML;
// the line it gives is one of the rendered document, not of the template.
var helmYAMLError = regexp.MustCompile(`YAML parse error on ([^:\s]+):`)

// helmProblem reports a render error at the template and line Helm names.
func helmProblem(repo fs.FS, paths chartPaths, chartDir string, err error) Problem {
	msg := err.Error()
	if m := helmYAMLError.FindStringSubmatch(msg); m != nil {
		return Problem{Source: Location{File: paths.repoPath(m[1]), Line: 1},
			Message: "helm: " + msg + " (the line is that of the rendered document, not of the template)"}
	}
	if m := helmErrorAt.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[2])
		return Problem{Source: Location{File: paths.repoPath(m[1]), Line: line}, Message: "helm: " + msg}
	}
	return Problem{Source: Location{File: path.Join(chartDir, "Chart.yaml")}, Message: "helm: " + msg}
}
