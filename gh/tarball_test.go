package gh

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io/fs"
	"sort"
	"strings"
	"testing"
)

type entry struct {
	name, link string
	typ        byte
	data       string
}

func tarball(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	// git archive starts with a pax global header carrying the commit id.
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header", PAXRecords: map[string]string{"comment": "abc"}}); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: 0o644, Size: int64(len(e.data))}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			tw.Write([]byte(e.data))
		}
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func TestExtractStripsTopDirAndResolvesLinks(t *testing.T) {
	data := tarball(t,
		entry{name: "acme-infra-abc1234/", typ: tar.TypeDir},
		entry{name: "acme-infra-abc1234/deploy/", typ: tar.TypeDir},
		entry{name: "acme-infra-abc1234/deploy/app.yaml", typ: tar.TypeReg, data: "kind: ConfigMap\n"},
		entry{name: "acme-infra-abc1234/deploy/alias.yaml", typ: tar.TypeSymlink, link: "app.yaml"},
		entry{name: "acme-infra-abc1234/up.yaml", typ: tar.TypeSymlink, link: "deploy/alias.yaml"},
		entry{name: "acme-infra-abc1234/passwd", typ: tar.TypeSymlink, link: "/etc/passwd"},
		entry{name: "acme-infra-abc1234/deploy/escape", typ: tar.TypeSymlink, link: "../../outside"},
	)
	files, skipped, err := Extract(bytes.NewReader(data), TarballLimits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"deploy/app.yaml", "deploy/alias.yaml", "up.yaml"} {
		if b, ok := files[name]; !ok || string(b) != "kind: ConfigMap\n" {
			t.Errorf("%s = %q, found %v", name, b, ok)
		}
	}
	if _, ok := files["passwd"]; ok {
		t.Error("a link to /etc/passwd was followed")
	}
	if strings.Join(skipped, ",") != "passwd,deploy/escape" && strings.Join(skipped, ",") != "deploy/escape,passwd" {
		t.Errorf("skipped = %v, want the two links out of the tree", skipped)
	}
	// Regular files only, by valid paths: directories are implied.
	var names []string
	for name := range files {
		if !fs.ValidPath(name) || name == "." {
			t.Errorf("invalid path %q", name)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	if got := strings.Join(names, " "); got != "deploy/alias.yaml deploy/app.yaml up.yaml" {
		t.Errorf("files = %s, want the file and its two links", got)
	}
}

func TestExtractRefuses(t *testing.T) {
	cases := map[string]struct {
		entries []entry
		limits  TarballLimits
		want    string
	}{
		"absolute path": {[]entry{{name: "/etc/cron.d/x", typ: tar.TypeReg, data: "x"}}, TarballLimits{}, "absolute path"},
		"dot dot":       {[]entry{{name: "top/../../x", typ: tar.TypeReg, data: "x"}}, TarballLimits{}, `".."`},
		"device":        {[]entry{{name: "top/dev", typ: tar.TypeChar}}, TarballLimits{}, "devices"},
		"fifo":          {[]entry{{name: "top/fifo", typ: tar.TypeFifo}}, TarballLimits{}, "devices"},
		"too big":       {[]entry{{name: "top/big", typ: tar.TypeReg, data: strings.Repeat("x", 2000)}}, TarballLimits{MaxExtracted: 1000}, "exceed 1000 bytes"},
		"too many":      {[]entry{{name: "top/a", typ: tar.TypeReg}, {name: "top/b", typ: tar.TypeReg}, {name: "top/c", typ: tar.TypeReg}}, TarballLimits{MaxFiles: 2}, "more than 2 entries"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := Extract(bytes.NewReader(tarball(t, c.entries...)), c.limits)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to mention %s", err, c.want)
			}
		})
	}
}

// A gzip bomb stops at the download limit, not after inflating.
func TestExtractDownloadLimit(t *testing.T) {
	data := tarball(t, entry{name: "top/a", typ: tar.TypeReg, data: strings.Repeat("0123456789abcdef", 100000)})
	_, _, err := Extract(bytes.NewReader(data), TarballLimits{MaxDownload: int64(len(data) / 2)})
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("err = %v, want the download limit", err)
	}
}
