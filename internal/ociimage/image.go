// Package ociimage builds tugboat's container image as an OCI image layout
// on disk, from the static bot binary, with go-containerregistry: no
// Docker daemon, no registry, no base image to pull. The layout can be
// pushed with crane, skopeo or oras, or loaded by any OCI runtime.
package ociimage

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Where things are inside the image.
const (
	BinaryPath = "/bot"
	CAPath     = "/etc/ssl/certs/ca-certificates.crt"
	// User is distroless's "nonroot": the Deployment's runAsUser too.
	User = "65532:65532"
)

// Options say what goes into the image.
type Options struct {
	// Binary is the static bot binary (CGO_ENABLED=0).
	Binary string
	// CACerts is a PEM bundle of CA certificates for GitHub and the API
	// servers (the host's, typically /etc/ssl/certs/ca-certificates.crt).
	CACerts string
	// Labels are OCI labels (org.opencontainers.image.source, .revision, …).
	Labels map[string]string
	// Ref names the image in the layout's index (org.opencontainers.image.ref.name).
	Ref string
}

// Build writes the image into an OCI image layout at dir (created, or
// appended to) and returns the image's digest.
func Build(dir string, o Options) (v1.Hash, error) {
	bin, err := os.ReadFile(o.Binary)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("read the bot binary: %w", err)
	}
	ca, err := os.ReadFile(o.CACerts)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("read CA certificates: %w", err)
	}
	layerTar, err := rootfs([]file{
		{path: "etc/ssl/certs/ca-certificates.crt", mode: 0o444, data: ca},
		{path: "bot", mode: 0o555, data: bin},
		{path: "tmp", mode: 0o1777, dir: true},
	})
	if err != nil {
		return v1.Hash{}, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerTar)), nil }, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return v1.Hash{}, fmt.Errorf("make the layer: %w", err)
	}
	// OCI media types throughout (empty.Image starts as Docker's).
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("add the layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("read the config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = "amd64", "linux"
	cf.Config.Entrypoint = []string{BinaryPath}
	cf.Config.Cmd = []string{"serve", "--config", "/etc/tugboat/config/server.yaml"}
	cf.Config.User = User
	cf.Config.WorkingDir = "/"
	cf.Config.Env = []string{"SSL_CERT_FILE=" + CAPath}
	cf.Config.Labels = o.Labels
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("set the config: %w", err)
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		if p, err = layout.Write(dir, empty.Index); err != nil {
			return v1.Hash{}, fmt.Errorf("create the image layout %s: %w", dir, err)
		}
	}
	var opts []layout.Option
	if o.Ref != "" {
		opts = append(opts, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": o.Ref}))
	}
	if err := p.AppendImage(img, opts...); err != nil {
		return v1.Hash{}, fmt.Errorf("write the image into %s: %w", dir, err)
	}
	return img.Digest()
}

// file is one entry of the image's filesystem.
type file struct {
	path string
	mode int64
	data []byte
	dir  bool
}

// rootfs is a tar of files, with their parent directories, owned by root
// and dated at the epoch so the same inputs give the same layer digest.
func rootfs(files []file) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	made := map[string]bool{}
	epoch := time.Unix(0, 0)
	for _, f := range files {
		for d := parentDirs(f.path); len(d) > 0; d = d[1:] {
			if made[d[0]] {
				continue
			}
			made[d[0]] = true
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d[0] + "/", Mode: 0o755, ModTime: epoch}); err != nil {
				return nil, fmt.Errorf("tar %s: %w", d[0], err)
			}
		}
		if f.dir {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: f.path + "/", Mode: f.mode, ModTime: epoch}); err != nil {
				return nil, fmt.Errorf("tar %s: %w", f.path, err)
			}
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.path, Mode: f.mode, Size: int64(len(f.data)), ModTime: epoch}); err != nil {
			return nil, fmt.Errorf("tar %s: %w", f.path, err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, fmt.Errorf("tar %s: %w", f.path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("tar: %w", err)
	}
	return buf.Bytes(), nil
}

// parentDirs lists p's parent directories, outermost first ("a/b/c" →
// "a", "a/b").
func parentDirs(p string) []string {
	var out []string
	for i := 0; i < len(p); i++ {
		if p[i] == '/' {
			out = append(out, p[:i])
		}
	}
	return out
}
