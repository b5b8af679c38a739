package ops

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/tugboatops/tugboat/config"
)

// changedFiles lists the files that differ between two trees: added,
// removed or modified. For the base branch head and GitHub's test merge,
// that is exactly what merging the pull request would change.
func changedFiles(base, merge map[string][]byte) []string {
	var out []string
	for name, data := range merge {
		if b, ok := base[name]; !ok || !bytes.Equal(b, data) {
			out = append(out, name)
		}
	}
	for name := range base {
		if _, ok := merge[name]; !ok {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// touches reports whether any changed file lies under dir.
func touches(changed []string, dir string) bool {
	for _, f := range changed {
		if dir == "." || dir == "" || f == dir || strings.HasPrefix(f, dir+"/") {
			return true
		}
	}
	return false
}

// affected reports whether the pull request changes what env deploys:
// files under its path (a Helm environment: its chart or a values file)
// changed, or its rendered output (which may draw on
// files elsewhere, such as a Kustomize base) differs between base and merge.
// The renders go through the run's memo: planning env uses them again.
func (r *planRun) affected(ctx context.Context, env config.Environment, changed []string) (bool, error) {
	if len(changed) == 0 {
		return false, nil
	}
	for _, src := range env.Sources() {
		if touches(changed, src) {
			return true, nil
		}
	}
	before, err := renderDigest(ctx, r.renders, r.baseFS, env)
	if err != nil {
		return false, err
	}
	after, err := renderDigest(ctx, r.renders, r.mergeFS, env)
	if err != nil {
		return false, err
	}
	return before != after, nil
}

// renderDigest is a canonical text of an environment's render: objects and
// problems, sorted.
func renderDigest(ctx context.Context, renderer Renderer, tree fs.FS, env config.Environment) (string, error) {
	objs, probs, err := renderer.Render(ctx, tree, env)
	if err != nil {
		return "", fmt.Errorf("render %s: %w", env.Name, err)
	}
	items := make([]string, 0, len(objs)+len(probs))
	for _, obj := range objs {
		data, err := json.Marshal(obj.Obj.Object)
		if err != nil {
			return "", fmt.Errorf("render %s: %w", env.Name, err)
		}
		items = append(items, string(data))
	}
	for _, p := range probs {
		items = append(items, "problem: "+p.Object+": "+p.Message)
	}
	sort.Strings(items)
	return strings.Join(items, "\n"), nil
}
