package main

import (
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/web"
)

// runBadgeURL implements `bot badge-url OWNER/REPO ENV`: the URL of an
// environment's badge, with its token, from the server config's public URL
// and digest key. The token is printed for public repositories too (they
// need none): the badge keeps working if the repository is made private.
func runBadgeURL(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("badge-url", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "the server's config file (public_url, digest_key_file)")
	markdown := fs.Bool("markdown", false, "print a Markdown snippet: the badge, linked to the repository's status page")
	asJSON := fs.Bool("json", false, "print the shields.io endpoint URL (JSON) instead of the SVG's")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: bot badge-url --config server.yaml [--markdown | --json] OWNER/REPO ENV")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 1
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "bot badge-url: "+format+"\n", a...)
		return 1
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return 1
	}
	repo, env := fs.Arg(0), fs.Arg(1)
	if owner, name, ok := strings.Cut(repo, "/"); !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return fail("%q: want OWNER/REPO", repo)
	}
	if errs := validation.IsDNS1123Label(env); len(errs) > 0 {
		return fail("environment %q: %s", env, strings.Join(errs, "; "))
	}
	if *cfgPath == "" {
		return fail("--config is required: the badge URL needs the server's public_url and digest key")
	}
	cfg, err := config.LoadServer(*cfgPath)
	if err != nil {
		return fail("%v", err)
	}
	if v := os.Getenv(config.DigestKeyFileEnv); v != "" {
		cfg.DigestKeyFile = v
	}
	base := strings.TrimRight(cfg.PublicURL, "/")
	if base == "" {
		return fail("public_url is not set in %s: it is where people (and GitHub's image proxy) reach the bot", *cfgPath)
	}
	key, err := config.ReadDigestKey(cfg.DigestKeyFile)
	if err != nil {
		return fail("%v", err)
	}
	bk := web.BadgeKey(key)
	ext := "svg"
	if *asJSON {
		ext = "json"
	}
	badge := fmt.Sprintf("%s/badges/%s/%s.%s?token=%s", base, repo, url.PathEscape(env), ext, web.BadgeToken(bk, repo, env))
	if !*markdown {
		fmt.Fprintln(stdout, badge)
		return 0
	}
	status := fmt.Sprintf("%s/status/%s?token=%s", base, repo, web.StatusToken(bk, repo))
	fmt.Fprintf(stdout, "[![%s](%s)](%s)\n", env, badge, status)
	return 0
}
