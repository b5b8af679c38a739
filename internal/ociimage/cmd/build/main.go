// Command build writes tugboat's image into an OCI image layout (`make
// image`): the static bot binary, CA certificates, user 65532.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/tugboatops/tugboat/internal/ociimage"
)

func main() {
	bin := flag.String("binary", ".cache/image/bot", "the static bot binary")
	out := flag.String("out", ".cache/image/layout", "the OCI image layout to write (created or appended to)")
	ca := flag.String("ca", "/etc/ssl/certs/ca-certificates.crt", "CA certificates (PEM bundle) to put into the image")
	ref := flag.String("ref", "tugboat:dev", "the image's name in the layout")
	source := flag.String("source", "https://github.com/tugboatops/tugboat", "org.opencontainers.image.source")
	revision := flag.String("revision", "", "org.opencontainers.image.revision (the commit)")
	flag.Parse()
	labels := map[string]string{
		"org.opencontainers.image.title":  "tugboat",
		"org.opencontainers.image.source": *source,
	}
	if *revision != "" {
		labels["org.opencontainers.image.revision"] = *revision
	}
	d, err := ociimage.Build(*out, ociimage.Options{Binary: *bin, CACerts: *ca, Labels: labels, Ref: *ref})
	if err != nil {
		fmt.Fprintf(os.Stderr, "image: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s (%s) into the OCI layout %s\n", *ref, d, *out)
}
