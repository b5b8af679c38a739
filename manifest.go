// Package tugboat holds what lives at the root of the repository and the
// binary needs: the GitHub App manifest, app.yaml, which `bot setup`
// registers through GitHub's manifest flow.
package tugboat

import (
	"bytes"
	_ "embed"
)

//go:embed app.yaml
var appManifest []byte

// AppManifest returns app.yaml: the GitHub App manifest (YAML, with the
// example public URL tugboat.example.com that `bot setup` replaces).
func AppManifest() []byte { return bytes.Clone(appManifest) }
