package planner

import (
	"fmt"
	"io/fs"
	"path"
)

// RenderInProcess does the same work as Render without the child process.
// The child itself uses it; so do unit and fuzz tests. It has no time or
// memory limit of its own, so outside tests it must run inside the child.
func RenderInProcess(repo fs.FS, envPath string, lim Limits) ([]Object, []Problem) {
	lim = lim.withDefaults()
	dir := path.Clean(envPath)
	if dir == "" || dir == "/" {
		dir = "."
	}
	fi, err := fs.Stat(repo, dir)
	if err != nil {
		return nil, []Problem{limitProblem(err, dir)}
	}
	var objs []Object
	var probs []Problem
	switch kfile := kustomizationFile(repo, dir); {
	case !fi.IsDir():
		if !manifestExt(dir) {
			return nil, []Problem{{Source: Location{File: dir}, Message: fmt.Sprintf("path %q is neither a directory nor a .yaml, .yml or .json file", dir)}}
		}
		objs, probs = renderPlain(repo, dir, lim)
	case kfile != "":
		objs, probs = renderKustomize(repo, dir, kfile, lim)
	default:
		objs, probs = renderPlain(repo, dir, lim)
	}
	if len(objs) > lim.MaxObjects {
		return nil, capProblems(append([]Problem{limitProblem(errTooManyObjects(lim), dir)}, probs...))
	}
	return objs, capProblems(probs)
}
