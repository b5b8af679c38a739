package planner

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// The render child's protocol. Request, on stdin: a tar stream whose first
// entry is requestEntry (JSON renderRequest) and whose other entries are the
// repository's files under repoPrefix. Response, on stdout: one JSON
// renderResponse.
const (
	requestEntry = "tugboat-render-request.json"
	repoPrefix   = "repo/"
)

type renderRequest struct {
	EnvPath string `json:"envPath"`
	// Helm, when set, renders a chart instead of EnvPath.
	Helm   *HelmRender `json:"helm,omitempty"`
	Limits wireLimits  `json:"limits"`
}

type wireLimits struct {
	Timeout          time.Duration `json:"timeout"`
	MemoryBytes      int64         `json:"memoryBytes"`
	MaxRepoBytes     int64         `json:"maxRepoBytes"`
	MaxObjects       int           `json:"maxObjects"`
	MaxDocumentBytes int           `json:"maxDocumentBytes"`
}

type renderResponse struct {
	Objects  []wireObject  `json:"objects"`
	Problems []wireProblem `json:"problems"`
}

type wireObject struct {
	Object map[string]interface{} `json:"object"`
	File   string                 `json:"file"`
	Line   int                    `json:"line"`
}

type wireProblem struct {
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Object  string `json:"object,omitempty"`
	Message string `json:"message"`
	Omitted int    `json:"omitted,omitempty"`
	Note    bool   `json:"note,omitempty"`
}

// repoFile is one regular file of the repository to send to the child.
type repoFile struct {
	path string
	size int64
}

// listRepo lists the files a render may read (no .git, no symbolic links,
// nothing but regular files) and enforces the repository size limit before
// anything is sent anywhere.
func listRepo(repo fs.FS, lim Limits) ([]repoFile, error) {
	var files []repoFile
	var total int64
	err := fs.WalkDir(repo, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return fs.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		total += fi.Size()
		if total > lim.MaxRepoBytes {
			return errRepoTooBig(lim)
		}
		files = append(files, repoFile{path: p, size: fi.Size()})
		return nil
	})
	return files, err
}

// writeRequest streams the request and the listed files as a tar.
func writeRequest(w io.Writer, repo fs.FS, files []repoFile, envPath string, hr *HelmRender, lim Limits) error {
	tw := tar.NewWriter(w)
	req, err := json.Marshal(renderRequest{EnvPath: envPath, Helm: hr, Limits: wireLimits(lim)})
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: requestEntry, Mode: 0o600, Size: int64(len(req)), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	if _, err := tw.Write(req); err != nil {
		return err
	}
	var sent int64
	for _, f := range files {
		data, err := fs.ReadFile(repo, f.path)
		if err != nil {
			return fmt.Errorf("read %s: %w", f.path, err)
		}
		sent += int64(len(data))
		if sent > lim.MaxRepoBytes { // the tree grew since it was listed
			return errRepoTooBig(lim)
		}
		if err := tw.WriteHeader(&tar.Header{Name: repoPrefix + f.path, Mode: 0o600, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	return tw.Close()
}

// readRequest reads a request into an in-memory tree, enforcing the
// repository limit the request itself states.
func readRequest(r io.Reader) (*renderRequest, *MemFS, error) {
	tr := tar.NewReader(r)
	h, err := tr.Next()
	if err != nil {
		return nil, nil, fmt.Errorf("read request: %w", err)
	}
	if h.Name != requestEntry || h.Size > 1<<20 {
		return nil, nil, errors.New("read request: first entry is not the request")
	}
	var req renderRequest
	if err := json.NewDecoder(io.LimitReader(tr, h.Size)).Decode(&req); err != nil {
		return nil, nil, fmt.Errorf("read request: %w", err)
	}
	lim := Limits(req.Limits).withDefaults()
	files := map[string][]byte{}
	var total int64
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read repository: %w", err)
		}
		name := path.Clean(h.Name)
		if h.Typeflag != tar.TypeReg || len(name) <= len(repoPrefix) || name[:len(repoPrefix)] != repoPrefix || !fs.ValidPath(name[len(repoPrefix):]) {
			return nil, nil, fmt.Errorf("read repository: unexpected entry %q", h.Name)
		}
		total += h.Size
		if total > lim.MaxRepoBytes {
			return nil, nil, errRepoTooBig(lim)
		}
		data, err := io.ReadAll(io.LimitReader(tr, h.Size))
		if err != nil {
			return nil, nil, fmt.Errorf("read repository: %w", err)
		}
		files[name[len(repoPrefix):]] = data
	}
	return &req, NewMemFS(files), nil
}

func toWire(objs []Object, probs []Problem) renderResponse {
	resp := renderResponse{Objects: make([]wireObject, 0, len(objs)), Problems: make([]wireProblem, 0, len(probs))}
	for _, o := range objs {
		resp.Objects = append(resp.Objects, wireObject{Object: o.Obj.Object, File: o.Source.File, Line: o.Source.Line})
	}
	for _, p := range probs {
		resp.Problems = append(resp.Problems, wireProblem{File: p.Source.File, Line: p.Source.Line, Object: p.Object, Message: p.Message, Omitted: p.omitted, Note: p.Note})
	}
	return resp
}

// decodeResponse decodes a child's answer, keeping whole numbers as int64
// as the rest of client-go expects.
func decodeResponse(data []byte) ([]Object, []Problem, error) {
	var resp renderResponse
	if err := utiljson.Unmarshal(data, &resp); err != nil {
		return nil, nil, fmt.Errorf("decode render result: %w", err)
	}
	var objs []Object
	for _, o := range resp.Objects {
		objs = append(objs, Object{Obj: &unstructured.Unstructured{Object: o.Object}, Source: Location{File: o.File, Line: o.Line}})
	}
	var probs []Problem
	for _, p := range resp.Problems {
		probs = append(probs, Problem{Source: Location{File: p.File, Line: p.Line}, Object: p.Object, Message: p.Message, omitted: p.Omitted, Note: p.Note})
	}
	return objs, probs, nil
}
