package planner

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// memRoot is where the repository sits in krusty's in-memory file system.
// Anything a kustomization reaches outside it simply does not exist.
const memRoot = "/repo"

// renderKustomize builds dir (which holds kfile) with krusty over an
// in-memory copy of the repository, after the pre-scan, and maps each
// object's origin back to a repository file and line.
func renderKustomize(repo fs.FS, dir, kfile string, lim Limits) ([]Object, []Problem) {
	mem, symlinks, err := copyToMemFS(repo, kfile, lim)
	if err != nil {
		var p *Problem
		if errors.As(err, &p) {
			return nil, []Problem{*p}
		}
		return nil, []Problem{limitProblem(err, dir)}
	}
	scan := &kscan{repo: repo, symlinks: symlinks, visited: map[string]bool{}}
	scan.scanDir(dir, kfile, 0)
	if len(scan.probs) > 0 {
		return nil, scan.probs
	}

	guarded := &aliasGuardFS{FileSystem: mem}
	k := krusty.MakeKustomizer(kustomizeOptions())
	resMap, err := k.Run(guarded, path.Join(memRoot, dir))
	if guarded.bomb != nil {
		return nil, []Problem{*guarded.bomb}
	}
	if err != nil {
		return nil, []Problem{kustomizeProblem(kfile, err)}
	}
	if resMap.Size() > lim.MaxObjects {
		return nil, []Problem{limitProblem(errTooManyObjects(lim), dir)}
	}
	lines := &lineFinder{repo: repo, docs: map[string][]docInfo{}}
	var objs []Object
	var probs []Problem
	for _, res := range resMap.Resources() {
		src := Location{File: kfile}
		origin, err := res.GetOrigin()
		if err == nil && origin != nil {
			src = lines.locate(dir, origin.Path, origin.ConfiguredIn, origin.ConfiguredBy.Kind, res.GetKind(), res.GetName())
		}
		if err := res.SetOrigin(nil); err != nil {
			probs = append(probs, Problem{Source: src, Message: "strip origin annotation: " + err.Error()})
			continue
		}
		js, err := res.MarshalJSON()
		if err != nil {
			probs = append(probs, Problem{Source: src, Message: "encode rendered object: " + err.Error()})
			continue
		}
		var m map[string]interface{}
		if err := utiljson.Unmarshal(js, &m); err != nil {
			probs = append(probs, Problem{Source: src, Message: "decode rendered object: " + err.Error()})
			continue
		}
		obj := &unstructured.Unstructured{Object: m}
		// Without origin tracking kustomize would emit no annotations at
		// all; keep the object identical to that.
		if len(obj.GetAnnotations()) == 0 {
			unstructured.RemoveNestedField(obj.Object, "metadata", "annotations")
		}
		objs = append(objs, Object{Obj: obj, Source: src})
	}
	return objs, probs
}

// kustomizeOptions: builtin plugins only (no exec, Go or KRM function
// plugins, no Helm), files loaded only from within each kustomization's
// root, input order kept.
func kustomizeOptions() *krusty.Options {
	o := krusty.MakeDefaultOptions()
	o.PluginConfig = types.DisabledPluginConfig()
	o.LoadRestrictions = types.LoadRestrictionsRootOnly
	o.Reorder = krusty.ReorderOptionNone
	return o
}

// kustomizeProblem reports a krusty error at the environment's
// kustomization, with the in-memory root removed from the paths it names.
// (krusty's messages name files inconsistently, sometimes one merely
// mentioned, so the file is not guessed from them.)
func kustomizeProblem(kfile string, err error) Problem {
	msg := strings.ReplaceAll(err.Error(), memRoot+"/", "")
	return Problem{Source: Location{File: kfile}, Message: "kustomize: " + msg}
}

// copyToMemFS copies the repository (minus .git and symbolic links) into
// an in-memory file system under memRoot, adding originAnnotations to the
// environment's kustomization.
func copyToMemFS(repo fs.FS, kfile string, lim Limits) (filesys.FileSystem, map[string]bool, error) {
	mem := filesys.MakeFsInMemory()
	symlinks := map[string]bool{}
	var total int64
	err := fs.WalkDir(repo, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			symlinks[p] = true
			return nil
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
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
		if p == kfile {
			if data, err = withOriginAnnotations(data); err != nil {
				return &Problem{Source: Location{File: kfile}, Message: "cannot read kustomization: " + err.Error()}
			}
		}
		return mem.WriteFile(path.Join(memRoot, p), data)
	})
	return mem, symlinks, err
}

// Error lets a Problem travel through fs.WalkDir.
func (p *Problem) Error() string { return p.Message }

// aliasGuardFS checks every file krusty reads for a YAML alias bomb
// (kyaml expands aliases) before krusty parses it. Checking on read rather
// than on copy means a bomb only fails the environments that use it, and
// files no render reads cost nothing.
type aliasGuardFS struct {
	filesys.FileSystem
	bomb *Problem
}

// ReadFile refuses a file whose aliases expand too far, remembering why so
// the render reports that rather than krusty's wrapped error.
func (g *aliasGuardFS) ReadFile(name string) ([]byte, error) {
	data, err := g.FileSystem.ReadFile(name)
	if err != nil {
		return data, err
	}
	if p := aliasBomb(strings.TrimPrefix(name, memRoot+"/"), data); p != nil {
		if g.bomb == nil {
			g.bomb = p
		}
		return nil, p
	}
	return data, nil
}

// aliasBomb checks a file for YAML aliases that expand without bound.
// Only files with both an anchor and an alias character can be one; files
// that are not YAML are left to krusty.
func aliasBomb(file string, data []byte) *Problem {
	if !bytes.ContainsRune(data, '&') || !bytes.ContainsRune(data, '*') || bytes.IndexByte(data, 0) >= 0 {
		return nil
	}
	for _, c := range splitDocuments(data) {
		var doc yaml.Node
		if yaml.Unmarshal(c.data, &doc) != nil || len(doc.Content) == 0 {
			continue
		}
		if _, p := parseChunk(file, c); p != nil {
			return p
		}
	}
	return nil
}

// withOriginAnnotations adds originAnnotations to a kustomization's
// buildMetadata, editing the YAML tree so every other field stays as
// written.
func withOriginAnnotations(data []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return data, nil // krusty reports this itself
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "buildMetadata" {
			continue
		}
		list := root.Content[i+1]
		if list.Kind != yaml.SequenceNode {
			return data, nil
		}
		for _, c := range list.Content {
			if c.Value == types.OriginAnnotations {
				return data, nil
			}
		}
		list.Content = append(list.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: types.OriginAnnotations})
		return yaml.Marshal(&doc)
	}
	root.Content = append(root.Content,
		&yaml.Node{Kind: yaml.ScalarNode, Value: "buildMetadata"},
		&yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: types.OriginAnnotations}}})
	return yaml.Marshal(&doc)
}
