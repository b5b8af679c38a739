package main

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/palantir/go-githubapp/githubapp"
)

// setupCallbackPath is where GitHub sends the browser back with the code.
const setupCallbackPath = "/callback"

// setupFlow is one run of the manifest flow: the local page, its state,
// and the callback that finishes it.
type setupFlow struct {
	gh        githubURLs
	publicURL string
	org       string
	dir       string
	force     bool
	manifest  []byte
	name      string
	state     string
	stderr    io.Writer

	mu       sync.Mutex // one callback at a time; finished once
	finished bool
	done     chan setupResult // receives the outcome once
}

type setupResult struct {
	app *github.AppConfig
	err error
}

func (f *setupFlow) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", f.page)
	mux.HandleFunc("GET "+setupCallbackPath, f.callback)
	return mux
}

var setupPageTemplate = template.Must(template.New("setup").Parse(`<!doctype html>
<meta charset="utf-8">
<title>tugboat setup</title>
<h1>Register tugboat as a GitHub App</h1>
<p>This registers the GitHub App <b>{{.Name}}</b> for {{if .Org}}the organization <b>{{.Org}}</b>{{else}}your account{{end}}
at {{.Web}}, with webhooks to <code>{{.Hook}}</code>. GitHub shows what it asks for before creating it.</p>
<form action="{{.Action}}" method="post">
<input type="hidden" name="manifest" value="{{.Manifest}}">
<button type="submit">Create the GitHub App on GitHub</button>
</form>
<details><summary>The manifest (app.yaml)</summary><pre>{{.Pretty}}</pre></details>
`))

// page is the local page: a form posting the manifest to GitHub.
func (f *setupFlow) page(w http.ResponseWriter, r *http.Request) {
	var pretty bytes.Buffer
	json.Indent(&pretty, f.manifest, "", "  ")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	setupPageTemplate.Execute(w, map[string]any{
		"Name": f.name, "Org": f.org, "Web": f.gh.Web,
		"Hook":     f.publicURL + githubapp.DefaultWebhookRoute,
		"Action":   template.URL(newAppForm(f.gh, f.org, f.state)),
		"Manifest": string(f.manifest), "Pretty": pretty.String(),
	})
}

// callback is where GitHub sends the browser with the code: the state is
// checked (a mismatch is refused, and the flow keeps waiting for the real
// redirect), the code exchanged, the files written.
func (f *setupFlow) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.state)) != 1 {
		fmt.Fprintln(f.stderr, "bot setup: refused a callback whose state does not match this run's form (it did not come from GitHub through the page bot setup served); still waiting")
		f.answer(w, http.StatusBadRequest, "Refused", "This request's state does not match the form bot setup served: it did not start from that page, so its code is not used. Start again from bot setup's page.")
		return
	}
	code := q.Get("code")
	if code == "" {
		f.answer(w, http.StatusBadRequest, "No code", "GitHub's redirect carries no code: was the App created?")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.finished {
		f.answer(w, http.StatusConflict, "Already done", "bot setup has finished: see its output in the terminal.")
		return
	}
	app, err := f.exchange(r.Context(), code)
	if err == nil {
		err = writeAppFiles(f.dir, app, f.gh, f.publicURL, f.force)
	}
	f.finished = true
	f.done <- setupResult{app: app, err: err}
	if err != nil {
		f.answer(w, http.StatusBadGateway, "bot setup failed", err.Error())
		return
	}
	f.answer(w, http.StatusOK, "Done", fmt.Sprintf("The GitHub App %s (id %d) is registered and its credentials are written to %s. The terminal running bot setup shows the next steps; you can close this page.",
		app.GetName(), app.GetID(), f.dir))
}

// exchange trades the code for the App's credentials: POST
// /app-manifests/{code}/conversions, which needs no authentication.
func (f *setupFlow) exchange(ctx context.Context, code string) (*github.AppConfig, error) {
	client, err := github.NewClient(&http.Client{Timeout: 30 * time.Second}).WithEnterpriseURLs(f.gh.V3, f.gh.V3)
	if err != nil {
		return nil, fmt.Errorf("GitHub API URL %s: %w", f.gh.V3, err)
	}
	app, _, err := client.Apps.CompleteAppManifest(ctx, code)
	if err != nil {
		return nil, exchangeError(err, code)
	}
	if app.GetID() == 0 || app.GetPEM() == "" || app.GetWebhookSecret() == "" {
		return nil, fmt.Errorf("exchange the code for the App's credentials: GitHub's answer lacks the App's id, private key or webhook secret")
	}
	return app, nil
}

// exchangeError says what went wrong with the exchange in a person's
// terms, keeping GitHub's own status and message, and never the code (a
// one-time credential; go-github's errors carry it in the URL).
func exchangeError(err error, code string) error {
	const what = "exchange the code GitHub sent back for the App's credentials"
	var ge *github.ErrorResponse
	if errors.As(err, &ge) && ge.Response != nil {
		got := fmt.Sprintf("GitHub answered %s", ge.Response.Status)
		if ge.Message != "" {
			got += ": " + ge.Message
		}
		if ge.Response.StatusCode == http.StatusNotFound {
			return fmt.Errorf("%s: %s. The code was used already or has expired (it works once, within an hour), so this run did not receive the App's credentials: delete the App GitHub created (Settings → Developer settings → GitHub Apps) and run bot setup again",
				what, got)
		}
		return fmt.Errorf("%s: %s", what, got)
	}
	return fmt.Errorf("%s: %s", what, strings.ReplaceAll(err.Error(), code, "{code}"))
}

// answer is the page the browser shows after the callback.
func (f *setupFlow) answer(w http.ResponseWriter, status int, title, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html>\n<meta charset=\"utf-8\">\n<title>tugboat setup: %[1]s</title>\n<h1>%[1]s</h1>\n<p>%[2]s</p>\n",
		template.HTMLEscapeString(title), template.HTMLEscapeString(message))
}
