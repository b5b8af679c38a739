package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// runSetup implements `bot setup`: register tugboat as a GitHub App through
// GitHub's manifest flow and write what `bot serve` and deploy/ need.
//
// It serves a page on this machine whose form posts app.yaml's manifest to
// GitHub; the person confirms there, GitHub redirects the browser back to
// the page's callback with a code, and the code is exchanged for the App's
// id, private key and webhook secret (setup_callback.go), which are
// written with a new digest key and a server config (setup_write.go).
func runSetup(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("setup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	publicURL := fs.String("public-url", "", "where GitHub and people reach the bot, e.g. https://tugboat.example.com (required)")
	org := fs.String("org", "", "register the App for this organization (default: your own account)")
	githubURL := fs.String("github-url", "https://github.com", "GitHub's web address; for GitHub Enterprise Server, its own (its API is at /api/v3)")
	dir := fs.String("dir", "tugboat-app", "directory to write the App's key, webhook secret, digest key and server.yaml into")
	listen := fs.String("listen", "127.0.0.1:0", "address of the local page (host:port; port 0 picks one)")
	name := fs.String("name", "", "the App's name (default: app.yaml's, \"tugboat\"; names are unique on a GitHub instance)")
	force := fs.Bool("force", false, "overwrite files an earlier bot setup wrote into --dir")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: bot setup --public-url https://tugboat.example.com [--org acme] [--github-url https://github.com] [--dir DIR]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 1
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "bot setup: %v\n", err)
		return 1
	}
	if *publicURL == "" || fs.NArg() > 0 {
		fs.Usage()
		return 1
	}
	public, err := publicURLOf(*publicURL)
	if err != nil {
		return fail(err)
	}
	if strings.HasPrefix(public, "http://") {
		fmt.Fprintf(stderr, "bot setup: note: %s is not https: GitHub's webhooks (pull requests, comments) would cross the network unencrypted; use https outside a test\n", public)
	}
	gh, err := githubURLsFor(*githubURL)
	if err != nil {
		return fail(err)
	}
	// Before anything is registered: an App whose credentials cannot be
	// written would have to be deleted by hand.
	if err := checkSetupDir(*dir, *force); err != nil {
		return fail(err)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fail(fmt.Errorf("listen on %s: %w", *listen, err))
	}
	f := &setupFlow{
		gh: gh, publicURL: public, org: *org, dir: *dir, force: *force,
		state: randomState(), stderr: stderr, done: make(chan setupResult, 1),
	}
	page := "http://" + localHostPort(ln.Addr())
	if f.manifest, f.name, err = appManifestJSON(public, page+setupCallbackPath, *name); err != nil {
		ln.Close()
		return fail(err)
	}
	srv := &http.Server{Handler: f.routes(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer func() {
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	owner := "your account"
	if *org != "" {
		owner = "the organization " + *org
	}
	fmt.Fprintf(stdout, "Open %s/ in a browser signed in to %s, and register the GitHub App %q for %s there.\nWaiting for GitHub to send you back here (Ctrl-C to give up)...\n",
		page, gh.Web, f.name, owner)
	select {
	case <-ctx.Done():
		return fail(errors.New("interrupted before GitHub sent the App's code back"))
	case r := <-f.done:
		if r.err != nil {
			return fail(r.err)
		}
		printNextSteps(stdout, r.app, *dir, gh, public)
		return 0
	}
}

// randomState is the manifest flow's state: GitHub hands it back with the
// code, so a callback not started from this run's page is recognised.
func randomState() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}

// localHostPort is how a browser on this machine reaches addr: an
// unspecified host (0.0.0.0, ::) as localhost.
func localHostPort(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
