package planner

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// manifestExt reports whether a plain directory's file is a manifest.
func manifestExt(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// hidden reports whether a name is a dot-file or dot-directory. Renders skip
// them: .git is huge and never a manifest, and with path "." a repository's
// own .tugboat.yaml must not be taken for one.
func hidden(name string) bool {
	return strings.HasPrefix(name, ".") && name != "." && name != ".."
}

// renderPlain decodes every *.yaml, *.yml and *.json below dir, in lexical
// path order, so the same tree always renders the same list.
func renderPlain(repo fs.FS, dir string, lim Limits) ([]Object, []Problem) {
	var objs []Object
	var probs []Problem
	var total int64
	err := fs.WalkDir(repo, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir && hidden(d.Name()) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		// Symbolic links could point outside the repository (a host file,
		// a mounted token): never follow them.
		if d.Type()&fs.ModeSymlink != 0 || d.IsDir() || !manifestExt(d.Name()) {
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
		o, pr, err := decodeManifests(p, data, lim, lim.MaxObjects-len(objs)-len(probs))
		objs = append(objs, o...)
		probs = append(probs, pr...)
		return err
	})
	if err != nil {
		// The limit comes first: it is why nothing renders, and the
		// problems after it are capped.
		return nil, append([]Problem{limitProblem(err, dir)}, probs...)
	}
	return objs, probs
}
