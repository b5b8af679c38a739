package ociimage

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The image, read back from its OCI layout: entrypoint, user, labels and
// the binary itself (byte for byte, static), the CA bundle and a writable
// /tmp. The binary is a small static Go program built as `make image`
// builds the bot (CGO_ENABLED=0): building the bot itself without cgo here
// would compile every dependency again.
func TestBuildLayout(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bot")
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nimport \"os\"\n\nfunc main() { os.Exit(0) }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-trimpath", "-o", bin, src)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\ntest\n-----END CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "layout")
	digest, err := Build(out, Options{Binary: bin, CACerts: ca, Ref: "tugboat:test",
		Labels: map[string]string{"org.opencontainers.image.source": "https://example.com/tugboat"}})
	if err != nil {
		t.Fatal(err)
	}

	p, err := layout.FromPath(out)
	if err != nil {
		t.Fatalf("read the layout back: %v", err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 || m.Manifests[0].Digest != digest || m.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "tugboat:test" {
		t.Fatalf("index = %+v, want the one image %s named tugboat:test", m.Manifests, digest)
	}
	if mt := m.Manifests[0].MediaType; mt != types.OCIManifestSchema1 {
		t.Errorf("manifest media type %s, want OCI's", mt)
	}
	img, err := p.Image(digest)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if len(c.Entrypoint) != 1 || c.Entrypoint[0] != "/bot" || c.User != "65532:65532" || cf.OS != "linux" ||
		c.Labels["org.opencontainers.image.source"] != "https://example.com/tugboat" {
		t.Errorf("config = entrypoint %q user %q os %q labels %v", c.Entrypoint, c.User, cf.OS, c.Labels)
	}

	want, _ := os.ReadFile(bin)
	files := map[string][]byte{}
	modes := map[string]int64{}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %d, %v", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		files[h.Name], modes[h.Name] = data, h.Mode
	}
	if !bytes.Equal(files["bot"], want) || modes["bot"]&0o111 == 0 {
		t.Errorf("the layer's /bot is not the binary (%d bytes, mode %o; want %d bytes, executable)", len(files["bot"]), modes["bot"], len(want))
	}
	if _, ok := files["etc/ssl/certs/ca-certificates.crt"]; !ok {
		t.Errorf("no CA bundle in the image")
	}
	if modes["tmp/"] != 0o1777 {
		t.Errorf("/tmp mode = %o, want 1777", modes["tmp/"])
	}
	// Static: a scratch image has no dynamic loader.
	f, err := elf.NewFile(bytes.NewReader(files["bot"]))
	if err != nil {
		t.Fatal(err)
	}
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			t.Errorf("the binary is dynamically linked: it would not start in the image")
		}
	}

	// The same inputs give the same image.
	again, err := Build(filepath.Join(dir, "again"), Options{Binary: bin, CACerts: ca, Ref: "tugboat:test",
		Labels: map[string]string{"org.opencontainers.image.source": "https://example.com/tugboat"}})
	if err != nil || again != digest {
		t.Errorf("rebuild digest %s (%v), want %s", again, err, digest)
	}
}
