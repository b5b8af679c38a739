package planner

import (
	"fmt"
	"io/fs"
	"path"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	sigsyaml "sigs.k8s.io/yaml"
)

// chartPaths maps the paths Helm names templates by ("shop/templates/a.yaml",
// "shop/charts/redis/templates/b.yaml") to repository paths: chart full
// path → repository directory of that chart.
type chartPaths map[string]string

// repoPath is the repository path of a file Helm names; a name of no
// known chart is returned as it is.
func (cp chartPaths) repoPath(helmPath string) string {
	best := ""
	for prefix := range cp {
		if (helmPath == prefix || strings.HasPrefix(helmPath, prefix+"/")) && len(prefix) > len(best) {
			best = prefix
		}
	}
	if best == "" {
		return helmPath
	}
	return path.Join(cp[best], strings.TrimPrefix(helmPath, best))
}

// loadChart loads the chart in dir from the repository, with the same
// files `helm template DIR` would load (.helmignore applied), refusing
// symbolic links.
func loadChart(repo fs.FS, dir string, lim Limits) (*chart.Chart, chartPaths, []Problem) {
	chartYAML := path.Join(dir, "Chart.yaml")
	if fi, err := fs.Stat(repo, dir); err != nil || !fi.IsDir() {
		return nil, nil, []Problem{{Source: Location{File: dir}, Message: fmt.Sprintf("helm: chart directory %s does not exist in the repository", dir)}}
	}
	if _, err := fs.Stat(repo, chartYAML); err != nil {
		return nil, nil, []Problem{{Source: Location{File: dir}, Message: fmt.Sprintf("helm: %s has no Chart.yaml: not a chart directory", dir)}}
	}
	ignore := helmIgnoreRules(repo, dir)
	var files []*loader.BufferedFile
	var probs []Problem
	var total int64
	err := fs.WalkDir(repo, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
		if dir == "." {
			rel = p
		}
		if rel != "" && rel != "." && ignore.ignored(rel, d.IsDir()) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			probs = append(probs, Problem{Source: Location{File: p}, Message: fmt.Sprintf("helm: %s is a symbolic link; renders do not follow links", p)})
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		data, err := fs.ReadFile(repo, p)
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		total += int64(len(data))
		if total > lim.MaxRepoBytes {
			return errRepoTooBig(lim)
		}
		files = append(files, &loader.BufferedFile{Name: rel, Data: data})
		return nil
	})
	if err != nil {
		return nil, nil, append([]Problem{limitProblem(err, dir)}, probs...)
	}
	if len(probs) > 0 {
		return nil, nil, probs
	}
	c, err := loader.LoadFiles(files)
	if err != nil {
		return nil, nil, []Problem{{Source: Location{File: chartYAML}, Message: "helm: load chart: " + strings.ReplaceAll(err.Error(), "\n", " ")}}
	}
	paths := chartPaths{}
	mapCharts(repo, c.Name(), dir, paths)
	return c, paths, nil
}

// mapCharts records the repository directory of the chart named full and
// of its vendored subcharts (whose directory need not be their name).
func mapCharts(repo fs.FS, full, dir string, paths chartPaths) {
	paths[full] = dir
	entries, err := fs.ReadDir(repo, path.Join(dir, "charts"))
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		sub := path.Join(dir, "charts", e.Name())
		data, err := fs.ReadFile(repo, path.Join(sub, "Chart.yaml"))
		if err != nil {
			continue
		}
		var meta struct {
			Name string `json:"name"`
		}
		if sigsyaml.Unmarshal(data, &meta) != nil || meta.Name == "" {
			continue
		}
		mapCharts(repo, full+"/charts/"+meta.Name, sub, paths)
	}
}

// helmIgnore is a chart's .helmignore plus Helm's default rule (hidden
// files under templates/ are not templates). Written here because Helm
// keeps its parser internal; it covers Helm's documented syntax — globs
// matched against the base name, or against the whole relative path when
// they contain a slash, a trailing slash for directories only, '!' to
// re-include — which is what LoadDir applies.
type helmIgnore []ignoreRule

type ignoreRule struct {
	pattern string
	dirOnly bool
	negate  bool
}

func helmIgnoreRules(repo fs.FS, dir string) helmIgnore {
	rules := helmIgnore{{pattern: "templates/.?*"}}
	data, err := fs.ReadFile(repo, path.Join(dir, ".helmignore"))
	if err != nil {
		return rules
	}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r := ignoreRule{}
		if strings.HasPrefix(line, "!") {
			r.negate, line = true, line[1:]
		}
		if strings.HasSuffix(line, "/") {
			r.dirOnly, line = true, strings.TrimSuffix(line, "/")
		}
		r.pattern = strings.TrimPrefix(line, "/")
		if _, err := path.Match(r.pattern, ""); err != nil {
			continue // Helm refuses such a file; ignoring the rule is the safer reading
		}
		rules = append(rules, r)
	}
	return rules
}

// ignored applies the rules in order; the last that matches decides.
func (rules helmIgnore) ignored(rel string, isDir bool) bool {
	out := false
	for _, r := range rules {
		if r.dirOnly && !isDir {
			continue
		}
		subject := path.Base(rel)
		if strings.Contains(r.pattern, "/") {
			subject = rel
		}
		if ok, _ := path.Match(r.pattern, subject); ok {
			out = !r.negate
		}
	}
	return out
}
