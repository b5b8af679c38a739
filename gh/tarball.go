package gh

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/google/go-github/v60/github"
)

// TarballLimits bound what a repository download may cost. A repository is
// untrusted input: a PR can add a gzip bomb as easily as a manifest.
type TarballLimits struct {
	// MaxDownload caps the compressed bytes read (default 100 MiB).
	MaxDownload int64
	// MaxExtracted caps the sum of extracted file sizes (default 256 MiB).
	MaxExtracted int64
	// MaxFiles caps the number of entries (default 50,000).
	MaxFiles int
}

func (l TarballLimits) withDefaults() TarballLimits {
	if l.MaxDownload <= 0 {
		l.MaxDownload = 100 << 20
	}
	if l.MaxExtracted <= 0 {
		l.MaxExtracted = 256 << 20
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = 50000
	}
	return l
}

// Tree is a repository at one commit, in memory.
type Tree struct {
	SHA string
	// Files holds the content of every regular file by slash-separated path
	// (directories are implied by the paths).
	Files map[string][]byte
	// Skipped lists symbolic links that point outside the repository; they
	// are left out, since nothing outside the tree may be read.
	Skipped []string
}

// Tarball downloads the repository at sha and extracts it into memory.
func (c *Client) Tarball(ctx context.Context, repo Repo, sha string) (*Tree, error) {
	u, _, err := c.v3.Repositories.GetArchiveLink(ctx, repo.Owner, repo.Name, github.Tarball,
		&github.RepositoryContentGetOptions{Ref: sha}, 0)
	if err != nil {
		return nil, wrap(err, "tarball %s@%.7s", repo, sha)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("tarball %s@%.7s: %w", repo, sha, err)
	}
	resp, err := c.download.Do(req)
	if err != nil {
		return nil, fmt.Errorf("tarball %s@%.7s: download: %w", repo, sha, redactURL(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("tarball %s@%.7s: download answered %s", repo, sha, resp.Status)
	}
	files, skipped, err := Extract(resp.Body, c.limits)
	if err != nil {
		return nil, fmt.Errorf("tarball %s@%.7s: %w", repo, sha, err)
	}
	return &Tree{SHA: sha, Files: files, Skipped: skipped}, nil
}

// redactURL drops the download URL (it carries a token) from a transport error.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// Extract reads a gzipped tar as GitHub serves it (one top-level directory,
// which is stripped): the content of every regular file by path. It
// refuses absolute paths, paths with
// "..", device files and anything beyond limits; symbolic and hard links
// inside the tree become copies of their target file, links leading out of
// it are skipped and listed.
func Extract(r io.Reader, limits TarballLimits) (map[string][]byte, []string, error) {
	lim := limits.withDefaults()
	counted := &limitReader{r: r, left: lim.MaxDownload}
	files, skipped, err := extract(counted, lim)
	if err != nil && counted.exceeded {
		return nil, nil, fmt.Errorf("download is larger than %d bytes", lim.MaxDownload)
	}
	return files, skipped, err
}

func extract(counted io.Reader, lim TarballLimits) (map[string][]byte, []string, error) {
	zr, err := gzip.NewReader(counted)
	if err != nil {
		return nil, nil, fmt.Errorf("not a gzip stream: %w", err)
	}
	tr := tar.NewReader(zr)
	files := map[string][]byte{}
	links := map[string]string{} // name -> target, resolved against the tree root
	var skipped []string
	var total int64
	entries := 0
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read archive: %w", err)
		}
		if h.Typeflag == tar.TypeXGlobalHeader || h.Typeflag == tar.TypeXHeader {
			continue // git archive's commit id comment
		}
		if entries++; entries > lim.MaxFiles {
			return nil, nil, fmt.Errorf("archive has more than %d entries", lim.MaxFiles)
		}
		name, err := entryName(h.Name)
		if err != nil {
			return nil, nil, err
		}
		if name == "" {
			continue // the top-level directory itself
		}
		switch h.Typeflag {
		case tar.TypeDir:
			// Implied by the paths of the files in it.
		case tar.TypeReg:
			if total+h.Size > lim.MaxExtracted {
				return nil, nil, fmt.Errorf("extracted files exceed %d bytes", lim.MaxExtracted)
			}
			data, err := io.ReadAll(io.LimitReader(tr, h.Size))
			if err != nil {
				return nil, nil, fmt.Errorf("read %s: %w", name, err)
			}
			total += int64(len(data))
			files[name] = data
		case tar.TypeSymlink:
			target, ok := linkTarget(name, h.Linkname)
			if !ok {
				skipped = append(skipped, name)
				continue
			}
			links[name] = target
		case tar.TypeLink:
			target, err := entryName(h.Linkname)
			if err != nil || target == "" {
				skipped = append(skipped, name)
				continue
			}
			links[name] = target
		default:
			return nil, nil, fmt.Errorf("%s: unsupported archive entry type %q (devices, FIFOs and the like are refused)", name, h.Typeflag)
		}
	}
	for name, target := range links {
		data, ok := resolveLink(files, links, target)
		if !ok {
			skipped = append(skipped, name)
			continue
		}
		if total+int64(len(data)) > lim.MaxExtracted {
			return nil, nil, fmt.Errorf("extracted files exceed %d bytes", lim.MaxExtracted)
		}
		total += int64(len(data))
		files[name] = data
	}
	return files, skipped, nil
}

// entryName strips the archive's top-level directory and checks the rest.
func entryName(raw string) (string, error) {
	if strings.HasPrefix(raw, "/") {
		return "", fmt.Errorf("archive entry %q has an absolute path", raw)
	}
	for _, part := range strings.Split(raw, "/") {
		if part == ".." {
			return "", fmt.Errorf("archive entry %q leaves the tree (\"..\")", raw)
		}
	}
	_, rest, _ := strings.Cut(strings.TrimSuffix(raw, "/"), "/")
	if rest == "" {
		return "", nil
	}
	clean := path.Clean(rest)
	if !fsValid(clean) {
		return "", fmt.Errorf("archive entry %q has an invalid path", raw)
	}
	return clean, nil
}

func fsValid(name string) bool {
	return name != "." && !strings.HasPrefix(name, "/") && !strings.Contains(name, "\x00")
}

// linkTarget resolves a symbolic link's target against the link's
// directory; ok is false when it leaves the tree.
func linkTarget(name, target string) (string, bool) {
	if strings.HasPrefix(target, "/") {
		return "", false
	}
	joined := path.Join(path.Dir(name), target)
	if joined == ".." || strings.HasPrefix(joined, "../") || joined == "." {
		return "", false
	}
	return joined, true
}

// resolveLink follows chains of links (at most a few hops) to a regular file.
func resolveLink(files map[string][]byte, links map[string]string, target string) ([]byte, bool) {
	for hops := 0; hops < 8; hops++ {
		if data, ok := files[target]; ok {
			return data, true
		}
		next, ok := links[target]
		if !ok {
			return nil, false
		}
		target = next
	}
	return nil, false
}

// limitReader fails once more than left bytes were read.
type limitReader struct {
	r        io.Reader
	left     int64
	exceeded bool
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		l.exceeded = true
		return 0, errors.New("download size limit reached")
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}
