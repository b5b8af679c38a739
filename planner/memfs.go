package planner

import (
	"bytes"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
)

// MemFS is a repository tree in memory: the content of every regular file,
// by slash-separated path. Directories are implied by the paths (Git keeps
// no empty ones). It implements fs.FS, fs.ReadFileFS, fs.ReadDirFS and
// fs.StatFS; it is read-only and safe for concurrent use.
//
// Written here because the standard library's map-backed FS (MapFS) lives
// in a test package, and scans every path for each directory it opens: the
// bot holds whole repositories (a GitHub tarball, the render child's copy)
// this way.
type MemFS struct {
	files map[string][]byte
	// dirs lists every directory's entries, sorted by name; "." is the root.
	dirs map[string][]fs.DirEntry
}

// NewMemFS makes a tree of files (path → content). Paths that io/fs does
// not accept are left out; where a path is both a file and the directory
// of other paths, it is the file. files must not change afterwards.
func NewMemFS(files map[string][]byte) *MemFS {
	m := &MemFS{files: make(map[string][]byte, len(files)), dirs: map[string][]fs.DirEntry{}}
	children := map[string]map[string]bool{".": {}} // dir → child name → is a directory
	for name, data := range files {
		if name == "." || !fs.ValidPath(name) {
			continue
		}
		m.files[name] = data
	}
	for name := range m.files {
		for child := name; child != "."; child = path.Dir(child) {
			dir := path.Dir(child)
			if children[dir] == nil {
				children[dir] = map[string]bool{}
			}
			_, known := children[dir][path.Base(child)]
			_, isFile := m.files[child]
			children[dir][path.Base(child)] = !isFile
			if known {
				break // its parents are listed already
			}
		}
	}
	for dir, names := range children {
		if _, isFile := m.files[dir]; isFile {
			continue
		}
		entries := make([]fs.DirEntry, 0, len(names))
		for name, isDir := range names {
			full := path.Join(dir, name)
			if isDir {
				entries = append(entries, fs.FileInfoToDirEntry(dirInfo(full)))
			} else {
				entries = append(entries, fs.FileInfoToDirEntry(fileInfo{name: name, size: int64(len(m.files[full]))}))
			}
		}
		slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
		m.dirs[dir] = entries
	}
	return m
}

// Open implements fs.FS.
func (m *MemFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if data, ok := m.files[name]; ok {
		return &memFile{info: fileInfo{name: path.Base(name), size: int64(len(data))}, Reader: bytes.NewReader(data)}, nil
	}
	if entries, ok := m.dirs[name]; ok {
		return &memDir{info: dirInfo(name), entries: entries}, nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// ReadFile implements fs.ReadFileFS. The caller may change the bytes
// returned: they are a copy.
func (m *MemFS) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readfile", Path: name, Err: fs.ErrInvalid}
	}
	data, ok := m.files[name]
	if !ok {
		if _, isDir := m.dirs[name]; isDir {
			return nil, &fs.PathError{Op: "readfile", Path: name, Err: fs.ErrInvalid}
		}
		return nil, &fs.PathError{Op: "readfile", Path: name, Err: fs.ErrNotExist}
	}
	return bytes.Clone(data), nil
}

// ReadDir implements fs.ReadDirFS.
func (m *MemFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	entries, ok := m.dirs[name]
	if !ok {
		if _, isFile := m.files[name]; isFile {
			return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
		}
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	return slices.Clone(entries), nil
}

// Stat implements fs.StatFS.
func (m *MemFS) Stat(name string) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	if data, ok := m.files[name]; ok {
		return fileInfo{name: path.Base(name), size: int64(len(data))}, nil
	}
	if _, ok := m.dirs[name]; ok {
		return dirInfo(name), nil
	}
	return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
}

// fileInfo describes a file or, with dir set, a directory of a MemFS.
type fileInfo struct {
	name string
	size int64
	dir  bool
}

func dirInfo(full string) fileInfo { return fileInfo{name: path.Base(full), dir: true} }

func (fi fileInfo) Name() string       { return fi.name }
func (fi fileInfo) Size() int64        { return fi.size }
func (fi fileInfo) ModTime() time.Time { return time.Time{} }
func (fi fileInfo) IsDir() bool        { return fi.dir }
func (fi fileInfo) Sys() any           { return nil }
func (fi fileInfo) Mode() fs.FileMode {
	if fi.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}

// memFile is an open file of a MemFS.
type memFile struct {
	info fileInfo
	*bytes.Reader
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *memFile) Close() error               { return nil }

// memDir is an open directory of a MemFS.
type memDir struct {
	info    fileInfo
	entries []fs.DirEntry
	offset  int
}

func (d *memDir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *memDir) Close() error               { return nil }
func (d *memDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: fs.ErrInvalid}
}

// ReadDir implements fs.ReadDirFile.
func (d *memDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.offset:]
	if n <= 0 {
		d.offset = len(d.entries)
		return slices.Clone(rest), nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.offset += n
	return slices.Clone(rest[:n]), nil
}
