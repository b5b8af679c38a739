package main

import (
	"fmt"
	"sort"
	"strings"
)

// A change is one commit's worth of edits to the examples repository. The
// edits are exact text replacements rather than whole files, so a reader
// sees at a glance what the pull request changes, and an examples/ edit
// that breaks one is caught (every Old must occur exactly once) instead of
// silently pushing stale files.
type change struct {
	Message string
	Edits   []edit
	Delete  []string
}

type edit struct {
	File, Old, New string
}

// prChange is the pull request the sandbox opens: in staging an image tag,
// a config value, a Secret value, a feature flag and a removed Deployment;
// in prod a replica count and a promoted image.
var prChange = change{
	Message: "Release web 1.6.0 to staging, promote web 1.5.0 to prod",
	Edits: []edit{
		{"deploy/overlays/staging/kustomization.yaml", "  - name: ghcr.io/acme/shop-web\n    newTag: \"1.5.0\"", "  - name: ghcr.io/acme/shop-web\n    newTag: \"1.6.0\""},
		{"deploy/overlays/staging/kustomization.yaml", "  - debug-toolbox.yaml\n", ""},
		{"deploy/overlays/staging/api-config.yaml", "CHECKOUT_TIMEOUT: 30s", "CHECKOUT_TIMEOUT: 45s"},
		// sk_test_51h44b72 -> sk_test_7f3e09aa: a rotated key.
		{"deploy/overlays/staging/api-credentials.yaml", "payment-api-key: c2tfdGVzdF81MWg0NGI3Mg==", "payment-api-key: c2tfdGVzdF83ZjNlMDlhYQ=="},
		{"deploy/overlays/staging/featureflags.yaml", "  enabled: true\n  rolloutPercent: 50", "  enabled: true\n  rolloutPercent: 100"},
		{"deploy/overlays/prod/kustomization.yaml", "  - name: ghcr.io/acme/shop-web\n    newTag: \"1.4.2\"", "  - name: ghcr.io/acme/shop-web\n    newTag: \"1.5.0\""},
		{"deploy/overlays/prod/kustomization.yaml", "  - name: api\n    count: 3", "  - name: api\n    count: 4"},
	},
	Delete: []string{"deploy/overlays/staging/debug-toolbox.yaml"},
}

// followUp is the second push of --script (and of --push without edits of
// your own): review feedback, staging's api gets a second replica.
var followUp = change{
	Message: "Run two api replicas in staging",
	Edits: []edit{
		{"deploy/overlays/staging/kustomization.yaml", "  - name: api\n    count: 1", "  - name: api\n    count: 2"},
	},
}

// apply returns files with the change made. files is not modified.
func (c change) apply(files map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(files))
	for k, v := range files {
		out[k] = v
	}
	for _, e := range c.Edits {
		content, ok := out[e.File]
		if !ok {
			return nil, fmt.Errorf("change %q: %s does not exist", c.Message, e.File)
		}
		if n := strings.Count(content, e.Old); n != 1 {
			return nil, fmt.Errorf("change %q: %s contains %q %d times, want exactly once (was examples/ edited?)", c.Message, e.File, e.Old, n)
		}
		out[e.File] = strings.Replace(content, e.Old, e.New, 1)
	}
	for _, p := range c.Delete {
		if _, ok := out[p]; !ok {
			return nil, fmt.Errorf("change %q: cannot delete %s: it does not exist", c.Message, p)
		}
		delete(out, p)
	}
	return out, nil
}

// difference is what turns files `from` into files `to`: the files to
// write (new or changed) and the paths to delete, sorted.
func difference(from, to map[string]string) (write map[string]string, del []string) {
	write = map[string]string{}
	for p, c := range to {
		if old, ok := from[p]; !ok || old != c {
			write[p] = c
		}
	}
	for p := range from {
		if _, ok := to[p]; !ok {
			del = append(del, p)
		}
	}
	sort.Strings(del)
	return write, del
}
